/**
 * The reply skeleton: everything a server reply takes from its request, so a
 * handler adds only what is specific to its mode (message type, yiaddr,
 * server id, boot file, ...). Modelled on insomniacslk/dhcp's
 * NewReplyFromRequest and RFC 2131 §4.3.1 Table 3.
 */
import { BootOp, type DhcpPacket } from './packet.ts';
import type { DhcpOptions } from './options.ts';

/**
 * Options a reply echoes unchanged when the request had them, and why. Table
 * 3 of RFC 2131 says which header fields a reply copies; these are the
 * options that later RFCs and PXE add to that list.
 */
export const ECHOED_OPTIONS: readonly { readonly code: number; readonly why: string }[] = [
  { code: 61, why: 'RFC 6842 §3: a server MUST return the client identifier unaltered' },
  { code: 82, why: 'RFC 3046 §2.2: the relay needs its own information back to forward the reply' },
  { code: 97, why: 'PXE 2.1: servers return the client GUID; pixiecore does the same' },
];

/**
 * A BOOTREPLY for `request`: op 2, the request's htype, hlen, chaddr, xid,
 * flags (so a client that asked for broadcast gets it) and giaddr (so a
 * relayed reply goes back through the relay), plus the options in
 * {@link ECHOED_OPTIONS}. Everything else is zero or empty: hops, secs,
 * ciaddr, yiaddr, siaddr, sname, file and all other options. Arrays are
 * copied, so editing the reply never changes the request.
 */
export function replyFrom(request: DhcpPacket): DhcpPacket {
  const options: DhcpOptions = new Map();
  for (const { code } of ECHOED_OPTIONS) {
    const data = request.options.get(code);
    if (data !== undefined) options.set(code, data.slice());
  }
  return {
    op: BootOp.Reply,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: request.giaddr,
    chaddr: request.chaddr.slice(),
    sname: '',
    file: '',
    options,
  };
}
