import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Emulators, startEmulators } from '../../../infra/local/emulators';

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: ['table-1'], buckets: ['bucket-1'] });
});
afterAll(() => emu.close());

test('the real AWS SDK reads back what it wrote to the embedded DynamoDB', async () => {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emu.dynamoEndpoint, region: emu.region, credentials: emu.credentials }),
  );
  await doc.send(new PutCommand({ TableName: 'table-1', Item: { pk: 'a', sk: 'b', n: 7 } }));
  const got = await doc.send(new GetCommand({ TableName: 'table-1', Key: { pk: 'a', sk: 'b' } }));
  expect(got.Item).toEqual({ pk: 'a', sk: 'b', n: 7 });
});

test('the real AWS SDK reads back what it wrote to the embedded S3', async () => {
  const s3 = new S3Client({
    endpoint: emu.s3Endpoint,
    region: emu.region,
    credentials: emu.credentials,
    forcePathStyle: true,
  });
  await s3.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'k/1.txt', Body: 'hello' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'bucket-1', Key: 'k/1.txt' }));
  expect(await got.Body!.transformToString()).toBe('hello');
});

test('stop() makes both endpoints refuse connections; restart() serves the same data on the same ports', async () => {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: emu.dynamoEndpoint,
      region: emu.region,
      credentials: emu.credentials,
      maxAttempts: 1,
    }),
  );
  const s3 = new S3Client({
    endpoint: emu.s3Endpoint,
    region: emu.region,
    credentials: emu.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await doc.send(new PutCommand({ TableName: 'table-1', Item: { pk: 'kept', sk: 'x' } }));
  await s3.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'kept.txt', Body: 'still here' }));
  const endpoints = [emu.dynamoEndpoint, emu.s3Endpoint];

  await emu.stop();
  await expect(
    doc.send(new GetCommand({ TableName: 'table-1', Key: { pk: 'kept', sk: 'x' } })),
  ).rejects.toThrow(/ECONNREFUSED/);
  await expect(s3.send(new GetObjectCommand({ Bucket: 'bucket-1', Key: 'kept.txt' }))).rejects.toThrow(
    /ECONNREFUSED/,
  );

  await emu.restart();
  expect([emu.dynamoEndpoint, emu.s3Endpoint]).toEqual(endpoints);
  const item = await doc.send(new GetCommand({ TableName: 'table-1', Key: { pk: 'kept', sk: 'x' } }));
  expect(item.Item).toEqual({ pk: 'kept', sk: 'x' });
  const object = await s3.send(new GetObjectCommand({ Bucket: 'bucket-1', Key: 'kept.txt' }));
  expect(await object.Body!.transformToString()).toBe('still here');
  doc.destroy();
  s3.destroy();
});
