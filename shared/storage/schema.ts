// Key layout shared by the CDK stack, the local emulators and the stores. Both tables use a
// generic `pk`/`sk` pair and expire items through the `ttl` attribute (epoch seconds).
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'ttl' } as const;

/** Bucket prefixes: raw browser uploads (expire within a day) and normalized images. */
export const BUCKET_PREFIXES = { uploads: 'uploads/', images: 'images/' } as const;

/**
 * Days after which the bucket's lifecycle rule expires raw uploads (S3's granularity is a day).
 * The stack's rule and the local emulator's sweep both read it.
 */
export const RAW_UPLOAD_EXPIRY_DAYS = 1;
