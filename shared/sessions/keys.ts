// Item keys of the sessions table. The chat function reads the same items, so this layout is a
// contract: one partition per session (META, IMAGE#<id>, SHA#<sha256>, GEN#<id>), plus one CONV#<id>
// partition per linked ElevenLabs conversation.

export const sessionKeys = {
  partition: (sessionId: string): string => `SESSION#${sessionId}`,
  meta: 'META',
  image: (imageId: string): string => `IMAGE#${imageId}`,
  imagePrefix: 'IMAGE#',
  content: (sha256: string): string => `SHA#${sha256}`,
  contentPrefix: 'SHA#',
  /** An image generation (shared/imagegen/records.ts). */
  generation: (generationId: string): string => `GEN#${generationId}`,
  generationPrefix: 'GEN#',
} as const;

export const conversationKeys = {
  partition: (conversationId: string): string => `CONV#${conversationId}`,
  link: 'LINK',
} as const;
