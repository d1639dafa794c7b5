// Which local function URL a path goes to: the split the stack makes over its three URLs.
import { functionForPath } from '../../../infra/local/lambda/lambda-app';

test.each([
  ['/sessions', 'sessions'],
  ['/sessions/s_x', 'sessions'],
  ['/sessions/s_x/link', 'sessions'],
  ['/sessions/s_x/images', 'uploads'],
  ['/sessions/s_x/images/img_y/complete', 'uploads'],
  // DELETE of one image belongs to the uploads function, which holds the image's S3 rights.
  ['/sessions/s_x/images/img_y', 'uploads'],
  ['/v1/chat/completions', 'chat'],
  ['/health', 'chat'],
])('%s → %s', (path, fn) => {
  expect(functionForPath(path)).toBe(fn);
});
