// Pure parts of the reference app: the camera's "did the picture change" test, and the CSP the
// page is served with (what it may connect to, from the browser API's configuration).
import { appBucketOrigin, appConnectFor, appCsp } from '../../../web/app/assets';
import { FRAME_CHANGE_THRESHOLD, frameChanged, frameDifference } from '../../../web/app/ui/frame-change';
import { testConfig } from '../../integration/sessions/harness';

/** A w*h RGBA frame of one grey level, with an optional square of another. */
function frame(level: number, square?: { level: number; size: number }, w = 64, h = 48): Uint8ClampedArray {
  const px = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = square && x < square.size && y < square.size ? square.level : level;
      px.set([v, v, v, 255], (y * w + x) * 4);
    }
  return px;
}

describe('frame change (camera live mode)', () => {
  test('the first frame always counts as a change', () => {
    expect(frameChanged(undefined, frame(100))).toBe(true);
  });

  test('sensor noise of a still scene is no change; an object entering the picture is', () => {
    const still = frame(100);
    const noisy = still.map((v, i) => (i % 4 === 3 ? v : v + ((i * 7) % 5) - 2));
    expect(frameDifference(still, noisy)).toBeLessThan(FRAME_CHANGE_THRESHOLD);
    expect(frameChanged(still, noisy)).toBe(false);
    // A 24x24 dark object in a 64x48 picture: about a fifth of the pixels move by 80 levels.
    expect(frameChanged(still, frame(100, { level: 20, size: 24 }))).toBe(true);
  });

  test('frames of different sizes are a change (the camera switched resolution)', () => {
    expect(frameDifference(frame(1, undefined, 8, 8), frame(1, undefined, 4, 4))).toBe(255);
  });
});

describe('the app CSP', () => {
  test('deployed: the uploads function, the bucket regional host and ElevenLabs; nothing inline', () => {
    const config = testConfig({
      endpoints: {},
      imagesBucket: 'vision-images-abc',
      region: 'eu-west-1',
      uploadsUrl: 'https://up123.lambda-url.eu-west-1.on.aws',
    });
    delete config.elevenLabs;
    const csp = appCsp(appConnectFor(config), [appBucketOrigin(config)]);
    // Generated images are shown from presigned GETs on the bucket.
    expect(csp).toContain("img-src 'self' blob: data: https://vision-images-abc.s3.eu-west-1.amazonaws.com;");
    expect(csp).toContain(
      "connect-src 'self' https://up123.lambda-url.eu-west-1.on.aws https://vision-images-abc.s3.eu-west-1.amazonaws.com https://*.elevenlabs.io wss://*.elevenlabs.io;",
    );
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toMatch(/unsafe|blob: *'?self|script-src[^;]*(blob|data):/);
  });

  test('a configured ElevenLabs base URL replaces the public hosts, with its websocket scheme', () => {
    const config = testConfig({
      elevenLabs: { apiKey: 'k', agentId: 'a', baseUrl: 'http://127.0.0.1:9000' },
    });
    expect(appConnectFor(config)).toEqual(
      expect.arrayContaining(['http://127.0.0.1:9000', 'ws://127.0.0.1:9000']),
    );
    expect(appConnectFor(config).join(' ')).not.toContain('elevenlabs.io');
  });
});
