/**
 * Public surface of the TFTP protocol library: a pure codec, option
 * negotiation, path checks and the read-transfer state machine. No sockets,
 * clocks or logs; the agent's TFTP server wraps these around a UDP socket.
 */
export type { AckPacket, DataPacket, ErrorPacket, OackPacket, Packet, PacketKind, Request, TftpOption } from './packet.ts';
export { encodeAck, encodeData, encodeError, encodeOack, encodePacket, Opcode } from './packet.ts';
export type { DecodeResult } from './decode.ts';
export { decodePacket } from './decode.ts';
export type { ErrorCodeValue } from './error-packet.ts';
export { accessViolation, describeErrorCode, ErrorCode, fileNotFound, illegalOperation, optionRefused, otherError } from './error-packet.ts';
export type { IgnoredOption, Negotiation, TransferPlan, TransferPolicy } from './options.ts';
export { defaultPolicy, negotiateRead } from './options.ts';
export type { PathResult } from './path.ts';
export { isInsideRoot, normaliseRequestPath } from './path.ts';
export type { FinishReasonValue, TransferAction } from './transfer.ts';
export { FinishReason, ReadTransfer } from './transfer.ts';
