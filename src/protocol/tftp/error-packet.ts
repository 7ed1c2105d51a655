/**
 * TFTP error codes (RFC 1350 §5, code 8 from RFC 2347) and ready-made ERROR
 * packets for the cases a read-only boot server meets. An ERROR is sent once,
 * never acknowledged nor retransmitted; after it the transfer is over.
 */
import { encodeError } from './packet.ts';

/** Wire error codes. */
export const ErrorCode = {
  notDefined: 0,
  fileNotFound: 1,
  accessViolation: 2,
  diskFull: 3,
  illegalOperation: 4,
  unknownTransferId: 5,
  fileExists: 6,
  noSuchUser: 7,
  optionRefused: 8,
} as const;

/** One of the {@link ErrorCode} values; peers may still send any 16-bit number. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Short standard texts, used when the caller gives no message. */
const defaultMessages: Record<ErrorCodeValue, string> = {
  0: 'Error',
  1: 'File not found',
  2: 'Access violation',
  3: 'Disk full or allocation exceeded',
  4: 'Illegal TFTP operation',
  5: 'Unknown transfer ID',
  6: 'File already exists',
  7: 'No such user',
  8: 'Option negotiation refused',
};

/** The standard text for a code, or `error <n>` for codes outside RFC 1350/2347. */
export function describeErrorCode(code: number): string {
  return defaultMessages[code as ErrorCodeValue] ?? `error ${code}`;
}

/**
 * ERROR 1. The message goes to the client's console; do not put server paths
 * in it (the client only needs the name it asked for).
 */
export function fileNotFound(message: string = defaultMessages[1]): Uint8Array {
  return encodeError(ErrorCode.fileNotFound, message);
}

/** ERROR 2: the path escapes the root, or the file may not be read. */
export function accessViolation(message: string = defaultMessages[2]): Uint8Array {
  return encodeError(ErrorCode.accessViolation, message);
}

/** ERROR 4: a WRQ (this server is read-only), an unsupported mode, or a packet that makes no sense here. */
export function illegalOperation(message: string = defaultMessages[4]): Uint8Array {
  return encodeError(ErrorCode.illegalOperation, message);
}

/** ERROR 8 (RFC 2347): terminate because of option negotiation. */
export function optionRefused(message: string = defaultMessages[8]): Uint8Array {
  return encodeError(ErrorCode.optionRefused, message);
}

/** ERROR 0 with a free text, for failures no code names (a read error on the server). */
export function otherError(message: string): Uint8Array {
  return encodeError(ErrorCode.notDefined, message);
}
