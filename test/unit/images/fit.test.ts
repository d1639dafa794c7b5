import { fitWithinCaps } from '../../../shared/images/fit';

describe('fitWithinCaps', () => {
  test('4000 x 3000 is bounded by the pixel cap, and both caps hold exactly', () => {
    const out = fitWithinCaps({ width: 4000, height: 3000 }, 1568, 1_150_000);
    expect(out).toEqual({ width: 1238, height: 928 });
    expect(out.width * out.height).toBeLessThanOrEqual(1_150_000);
  });

  test('a panorama is bounded by the long edge', () => {
    expect(fitWithinCaps({ width: 4000, height: 500 }, 1568, 1_150_000)).toEqual({
      width: 1568,
      height: 196,
    });
  });

  test('a portrait photo keeps its orientation', () => {
    const out = fitWithinCaps({ width: 3000, height: 4000 }, 1568, 1_150_000);
    expect(out).toEqual({ width: 928, height: 1238 });
  });

  test('never enlarges', () => {
    expect(fitWithinCaps({ width: 300, height: 200 }, 1568, 1_150_000)).toEqual({ width: 300, height: 200 });
  });

  test('an image exactly at the caps is left alone', () => {
    expect(fitWithinCaps({ width: 1568, height: 700 }, 1568, 1_150_000)).toEqual({
      width: 1568,
      height: 700,
    });
  });

  test('an extreme strip never shrinks a side to zero', () => {
    expect(fitWithinCaps({ width: 100_000, height: 2 }, 1568, 1_150_000)).toEqual({ width: 1568, height: 1 });
  });

  test.each([
    [1569, 1569],
    [5000, 5000],
    [4032, 3024],
    [7, 9_000],
    [12_345, 6_789],
  ])('%i x %i ends within both caps', (width, height) => {
    const out = fitWithinCaps({ width, height }, 1568, 1_150_000);
    expect(Math.max(out.width, out.height)).toBeLessThanOrEqual(1568);
    expect(out.width * out.height).toBeLessThanOrEqual(1_150_000);
    expect(out.width / out.height).toBeCloseTo(width / height, 1);
  });
});
