// The generation errors keep their names in a minified bundle (the deployed functions are
// minified, and the job tells a refusal apart by `err.name`).
import { build } from 'esbuild';

test('ImageRefusedError and ImageGenerationFailedError keep their names when minified', async () => {
  const out = await build({
    stdin: {
      contents: `import { ImageRefusedError, ImageGenerationFailedError } from './shared/imagegen/generation-errors';
        export const names = [new ImageRefusedError('p', 'r', { providerCode: 'c' }).name,
          new ImageGenerationFailedError('m', { errorClass: 'x' }, []).name];`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    format: 'cjs',
    platform: 'node',
    write: false,
  });
  const mod = { exports: {} as { names?: string[] } };
  new Function('module', 'exports', 'require', out.outputFiles[0]!.text)(mod, mod.exports, require);
  expect(mod.exports.names).toEqual(['ImageRefusedError', 'ImageGenerationFailedError']);
});
