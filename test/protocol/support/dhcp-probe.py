#!/usr/bin/python3
"""DHCP / ProxyDHCP probe for the protocol tests: sends what it is told, reports every reply.

Run as root with Debian's python3-scapy, inside a lab namespace (never on a real network):

    ip netns exec NS /usr/bin/python3 dhcp-probe.py [--iface eth0] STEPS_JSON|-

STEPS_JSON is a JSON array of steps, run in order. Each step sends one datagram and then
listens for `wait` seconds. Fields (all optional except where noted):

  name          label echoed in the output
  kind          "dhcp" (default): a BOOTREQUEST built from the fields below
                "raw": the bytes in `hex`, as they are (malformed packets)
  hex           kind raw: the UDP payload, hex
  type          DHCP message type: discover (default), request, inform, decline, release, or a number
  pxe           true (default): option 60 PXEClient:Arch:<arch>:UNDI:002001, 93, 94, 97
  vendorClass   option 60 as given (overrides the one `pxe` adds; null with pxe false: none)
  arch          option 93 (default 0 = BIOS)
  ipxe          true: user class "iPXE" (option 77) and option 175, as chainloaded iPXE sends
  serverId      option 54
  requestedIp   option 50
  bootItem      [type, layer]: option 43 sub-option 71, as a BIOS PXE ROM asks a boot server
  options       {"code": "hex"}: extra options, added as they are
  xid           transaction id (default: random); the replies of a dhcp step are those with its xid
  mac           chaddr (default: the interface's MAC)
  ciaddr        "self" = the interface's address; default 0.0.0.0
  flags         default 0x8000 (broadcast)
  to            destination address (default 255.255.255.255)
  dport, sport  UDP ports (default 67 and 68)
  wait          seconds to listen after sending (default 1.0)

Broadcasts leave as raw Ethernet frames (source 0.0.0.0, or ciaddr when set), as a PXE client
without an address sends them; unicasts leave from a UDP socket bound to the interface's address
and `sport`, so a reply to that port is not answered with ICMP port unreachable.

Output (stdout): one JSON object {"iface", "mac", "ip", "steps": [...]}; each step has its
"name", "xid", what was "sent" and the "replies": every UDP datagram from port 67 or 4011 that
reached the interface during the step (matched by xid for dhcp steps, by time for raw ones),
decoded: src, sport, dst, dport, op, xid, ciaddr, yiaddr, siaddr, giaddr, sname, file,
messageType, and options {"code": "hex"}. Exit 0 unless the probe itself failed.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
import uuid

from scapy.all import IP, UDP, AsyncSniffer, Ether, Raw, conf, get_if_addr, get_if_hwaddr, sendp

MAGIC = b"\x63\x82\x53\x63"
TYPES = {"discover": 1, "offer": 2, "request": 3, "decline": 4, "ack": 5, "nak": 6, "release": 7, "inform": 8}


def ip4(s):
    return socket.inet_aton(s)


def encode(step, mac, myip):
    """A BOOTREQUEST from the step's fields: header, magic cookie, options, end, padded to 300 bytes."""
    t = step.get("type", "discover")
    mtype = TYPES[t] if isinstance(t, str) else int(t)
    arch = int(step.get("arch", 0))
    opts = [(53, bytes([mtype]))]
    if step.get("serverId"):
        opts.append((54, ip4(step["serverId"])))
    if step.get("requestedIp"):
        opts.append((50, ip4(step["requestedIp"])))
    vc = step.get("vendorClass", f"PXEClient:Arch:{arch:05d}:UNDI:002001" if step.get("pxe", True) else None)
    if vc is not None:
        opts.append((60, vc.encode()))
    if step.get("pxe", True):
        opts += [(93, struct.pack("!H", arch)), (94, bytes([1, 2, 1])),
                 (97, b"\x00" + uuid.UUID("8b3e0a4c-5a1b-4d2e-9f00-123456789abc").bytes)]
    opts.append((55, bytes([1, 3, 6, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135, 175])))
    if step.get("ipxe"):
        opts += [(77, b"iPXE"), (175, bytes([0x13, 1, 1, 0x19, 1, 1]))]  # 175.19 bzimage, 175.25 pxeext
    if step.get("bootItem") is not None:
        typ, layer = step["bootItem"]
        opts.append((43, bytes([71, 4]) + struct.pack("!HH", typ, layer) + b"\xff"))
    for code, value in (step.get("options") or {}).items():
        opts.append((int(code), bytes.fromhex(value)))
    chaddr = bytes.fromhex((step.get("mac") or mac).replace(":", ""))
    ciaddr = myip if step.get("ciaddr") == "self" else step.get("ciaddr", "0.0.0.0")
    xid = step["xid"]
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, int(step.get("flags", 0x8000)),
                       ip4(ciaddr), ip4("0.0.0.0"), ip4("0.0.0.0"), ip4("0.0.0.0"),
                       chaddr.ljust(16, b"\0"), b"", b"")
    body = MAGIC + b"".join(bytes([c, len(v)]) + v for c, v in opts) + b"\xff"
    pkt = head + body
    return pkt.ljust(300, b"\0"), ciaddr


def decode(payload):
    """A BOOTP/DHCP message as a dict; options by code (repeats concatenated, RFC 3396)."""
    if len(payload) < 240:
        return {"malformed": f"{len(payload)} bytes", "hex": payload.hex()}
    op, htype, hlen, hops, xid, secs, flags = struct.unpack("!BBBBIHH", payload[:12])
    ci, yi, si, gi = (socket.inet_ntoa(payload[o:o + 4]) for o in (12, 16, 20, 24))
    sname = payload[44:108].split(b"\0", 1)[0].decode(errors="replace")
    file = payload[108:236].split(b"\0", 1)[0].decode(errors="replace")
    out = {"op": op, "xid": xid, "flags": flags, "ciaddr": ci, "yiaddr": yi, "siaddr": si, "giaddr": gi,
           "chaddr": payload[28:28 + min(hlen, 16)].hex(":"), "sname": sname, "file": file, "options": {}}
    if payload[236:240] != MAGIC:
        out["malformed"] = "no magic cookie"
        return out
    raw = {}
    i = 240
    while i < len(payload):
        code = payload[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(payload) or i + 2 + payload[i + 1] > len(payload):
            out["malformed"] = f"option {code} overruns the packet"
            break
        n = payload[i + 1]
        raw[code] = raw.get(code, b"") + payload[i + 2:i + 2 + n]
        i += 2 + n
    out["options"] = {str(k): v.hex() for k, v in raw.items()}
    if 53 in raw and len(raw[53]) == 1:
        out["messageType"] = raw[53][0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("steps", help="JSON array of steps, or - for stdin")
    a = ap.parse_args()
    steps = json.loads(sys.stdin.read() if a.steps == "-" else a.steps)
    conf.verb = 0
    mac = get_if_hwaddr(a.iface)
    myip = get_if_addr(a.iface)

    seen = []
    lock = threading.Lock()

    def on_packet(p):
        if IP not in p or UDP not in p or p[Ether].src.lower() == mac.lower():
            return
        with lock:
            seen.append((time.time(), p))

    started = threading.Event()
    sniffer = AsyncSniffer(iface=a.iface, filter="udp and (src port 67 or src port 4011)", prn=on_packet,
                           store=False, started_callback=started.set)
    sniffer.start()
    if not started.wait(10):
        print("dhcp-probe: the sniffer did not start", file=sys.stderr)
        return 2
    time.sleep(0.1)

    results = []
    for n, step in enumerate(steps):
        step = dict(step)
        step.setdefault("xid", int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF)
        to, dport, sport = step.get("to", "255.255.255.255"), int(step.get("dport", 67)), int(step.get("sport", 68))
        if step.get("kind", "dhcp") == "raw":
            payload, src = bytes.fromhex(step.get("hex", "")), "0.0.0.0"
        else:
            payload, src = encode(step, mac, myip)
        t0 = time.time()
        sock = None
        if to == "255.255.255.255":
            frame = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst=to, ttl=64) /
                     UDP(sport=sport, dport=dport) / Raw(load=payload))
            sendp(frame, iface=a.iface)
            sent_from = src
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((myip, sport))
            sock.sendto(payload, (to, dport))
            sent_from = myip
        time.sleep(float(step.get("wait", 1.0)))
        if sock is not None:
            sock.close()
        results.append({"name": step.get("name", f"step {n}"), "kind": step.get("kind", "dhcp"), "xid": step["xid"],
                        "window": [t0, time.time()],
                        "sent": {"from": sent_from, "sport": sport, "to": to, "dport": dport, "bytes": len(payload)}})
    time.sleep(0.1)
    sniffer.stop()

    xids = {r["xid"] for r in results if r["kind"] == "dhcp"}
    for r in results:
        r["replies"] = []
        for t, p in seen:
            d = decode(bytes(p[UDP].payload))
            if r["kind"] == "dhcp":
                if d.get("xid") != r["xid"] or d.get("op") != 2:
                    continue
            elif not (r["window"][0] <= t <= r["window"][1]) or d.get("xid") in xids:
                continue
            d.update({"src": p[IP].src, "sport": p[UDP].sport, "dst": p[IP].dst, "dport": p[UDP].dport,
                      "at": round(t - r["window"][0], 3)})
            r["replies"].append(d)
        del r["window"]
    json.dump({"iface": a.iface, "mac": mac, "ip": myip, "steps": results}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
