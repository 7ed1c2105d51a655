#!/usr/bin/python3
"""A minimal PXE boot server for the lab's self-test: a stand-in for our agent, run in a
lab host's namespace the way the e2e tests run ours (see README.md).

    labproxy.py --server-ip IP [--listen 67] [--listen 4011] [--iface eth0]

--listen 67    ProxyDHCP OFFER to PXE DISCOVERs (yiaddr 0, option 60 PXEClient) that
               carries the boot file itself, with option 43 sub-option 6 = 8 ("boot file
               is in this packet, skip discovery"; --no-43: without option 43): tells
               whether a firmware needs 4011.
--listen 4011  ACK to DHCPREQUESTs on 4011 (the proxy-colocated mode, where the site DHCP
               server sends option 60 PXEClient and this runs beside it).
Boot file: iPXE (option 77 "iPXE" or option 175) -> boot.ipxe; option 93 arch 0 ->
undionly.kpxe; arch 7 or 9 -> snponly.efi; next-server = --server-ip. Clients without
option 60 PXEClient are ignored. One line per decision on stdout. Standard library only.
"""
import argparse, select, socket, struct, sys

ap = argparse.ArgumentParser()
ap.add_argument("--server-ip", required=True)
ap.add_argument("--listen", type=int, action="append", choices=[67, 4011], required=True)
ap.add_argument("--iface", default="eth0")
ap.add_argument("--no-43", action="store_true", help="OFFER without option 43 (boot file only)")
a = ap.parse_args()
server = socket.inet_aton(a.server_ip)
COOKIE = b"\x63\x82\x53\x63"


def options(p):
    """Length-driven walk of the options after the magic cookie."""
    o, i = {}, 240
    while i < len(p) and p[i] != 255:
        if p[i] == 0:
            i += 1
            continue
        o.setdefault(p[i], p[i + 2:i + 2 + p[i + 1]])
        i += 2 + p[i + 1]
    return o


def boot_file(o):
    if o.get(77) == b"iPXE" or 175 in o:
        return "boot.ipxe"
    arch = int.from_bytes(o.get(93, b"\xff\xff")[:2], "big")
    return {0: "undionly.kpxe", 7: "snponly.efi", 9: "snponly.efi"}.get(arch)


def reply(req, o, msg_type, file, extra):
    """BOOTP reply copying xid, flags, ciaddr, giaddr and chaddr from the request."""
    head = bytes([2, 1, 6, 0]) + req[4:8] + b"\0\0" + req[10:12] + req[12:16] + b"\0" * 4
    head += server + req[24:28] + req[28:44] + b"\0" * 64 + file.encode().ljust(128, b"\0")
    opts = bytes([53, 1, msg_type, 54, 4]) + server + bytes([60, 9]) + b"PXEClient"
    if 97 in o:
        opts += bytes([97, len(o[97])]) + o[97]
    return head + COOKIE + opts + extra + b"\xff"


socks = {}
for port in a.listen:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    s.bind(("0.0.0.0", port))
    socks[s] = port
print(f"labproxy: listening on {sorted(socks.values())} as {a.server_ip}", flush=True)

while True:
    for s in select.select(list(socks), [], [])[0]:
        port = socks[s]
        req, peer = s.recvfrom(2048)
        if len(req) < 240 or req[0] != 1 or req[236:240] != COOKIE:
            continue
        o = options(req)
        mt = o.get(53, b"\0")[0]
        xid = req[4:8].hex()
        if not o.get(60, b"").startswith(b"PXEClient"):
            print(f"{port} xid {xid}: ignored, no option 60 PXEClient", flush=True)
            continue
        file = boot_file(o)
        if file is None:
            print(f"{port} xid {xid}: ignored, unknown architecture", flush=True)
            continue
        if port == 67 and mt == 1:
            pkt = reply(req, o, 2, file, b"" if a.no_43 else bytes([43, 4, 6, 1, 8, 255]))
            s.sendto(pkt, ("255.255.255.255", 68))
            print(f"67 xid {xid}: OFFER {file} (no 4011 needed)", flush=True)
        elif port == 4011 and mt == 3:
            extra = b""
            o43 = o.get(43, b"")
            if len(o43) >= 6 and o43[0] == 71:  # PXE boot item (sub-option 71): echo it back
                extra = bytes([43, 7, 71, 4]) + o43[2:6] + b"\xff"
            s.sendto(reply(req, o, 5, file, extra), peer)
            print(f"4011 xid {xid}: ACK {file} to {peer[0]}:{peer[1]}", flush=True)
        else:
            print(f"{port} xid {xid}: ignored, message type {mt}", flush=True)
