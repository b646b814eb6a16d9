/**
 * Kafka topic ids (Metadata v10+, DeleteTopics v6+, CreateTopics v7+): a UUID per topic
 * incarnation, derived from its name and incarnation, so that every gateway process gives a topic
 * the same id without storing one, and a topic deleted and created again gets a new id, as in
 * Kafka.
 */
import { createHash } from 'node:crypto';

/** Kafka's "no topic id". */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The topic id of an incarnation: 122 bits of SHA-256 of the name and incarnation, as an RFC 9562
 * version 8 (custom) UUID, never the all-zero id or Kafka's reserved metadata topic id (…0001).
 */
export function topicIdOf(topic: { readonly name: string; readonly incarnation: string }): string {
  const bytes = createHash('sha256')
    .update(`tributary-topic-id\0${topic.name}\0${topic.incarnation}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
