// Key layout shared by the CDK stack, the local emulators and the stores. Both tables use a
// generic `pk`/`sk` pair and expire items through the `ttl` attribute (epoch seconds).
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'ttl' } as const;

/** Bucket prefixes: raw browser uploads (expire within a day) and normalized images. */
export const BUCKET_PREFIXES = { uploads: 'uploads/', images: 'images/' } as const;
