/** A table of console messages: each key with its `[中文, English]` pair (see ../i18n.ts). */
export type MessagePairs = Readonly<Record<string, readonly [zh: string, en: string]>>;
