#!/usr/bin/env bash
# Captures golden DHCP packets from real firmware into test/fixtures/dhcp/.
#
# For each firmware (bios, uefi, uefi-edk2; see test/e2e/lab/lab.sh) it builds a lab
# segment (RA sender, site DHCP server, dnsmasq as ProxyDHCP + TFTP in the `server`
# namespace), boots a QEMU guest under TCG and runs tcpdump in the server namespace.
# From the capture it writes the raw UDP payload (the BOOTP/DHCP message, no IP/UDP
# header) of the first packet of each kind:
#   <fw>-firmware-discover.bin      the firmware's PXE DHCPDISCOVER (broadcast to 67)
#   <fw>-firmware-request.bin       its DHCPREQUEST to the site DHCP server (broadcast to 67)
#   <fw>-firmware-request-4011.bin  its DHCPREQUEST to the boot server on UDP 4011, if any
#   <fw>-proxy-offer.bin            dnsmasq's ProxyDHCP OFFER to the firmware
#   <fw>-proxy-ack-4011.bin         dnsmasq's ACK on 4011 to the firmware, if any
#   <fw>-ipxe-*.bin                 the same for the chainloaded iPXE (option 77 + 175)
#   <fw>.pcap                       DHCP, ProxyDHCP and TFTP read requests of the boot
# and regenerates test/fixtures/dhcp/README.md (versions, date, command, boot times).
#
# Chainloading: fresh EDK2 firmware gets snponly.efi from dnsmasq. QEMU's NIC ROM is
# already iPXE (bios, uefi), so dnsmasq hands it boot.ipxe directly (it tags option 175);
# that script chainloads Debian's undionly.kpxe or snponly.efi when it runs in the ROM
# iPXE (${net0/chip} = virtio-net), so every firmware also yields the DHCPDISCOVER of the
# iPXE build the product serves. The chainloaded iPXE gets boot.ipxe again, sees another
# chip and goes on: fetch done.txt, reboot (QEMU runs with -no-reboot and exits).
#
# usage: scripts/capture-golden.sh [FIRMWARE...]    (root; default: bios uefi uefi-edk2)
# env:   CAPTURE_TIMEOUT  seconds per boot (default 900)
#        CAPTURE_INDEX    lab index of the first firmware, +1 per firmware (default 240)
#        CAPTURE_WORK     directory for logs and full captures (default: mktemp -d)
#        CAPTURE_OUT      output directory (default test/fixtures/dhcp)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=${CAPTURE_OUT:-$repo/test/fixtures/dhcp}
tmo=${CAPTURE_TIMEOUT:-900}
index=${CAPTURE_INDEX:-240}
work=${CAPTURE_WORK:-$(mktemp -d /tmp/capture-golden.XXXXXX)}
fws=("$@"); [ ${#fws[@]} -gt 0 ] || fws=(bios uefi uefi-edk2)
for fw in "${fws[@]}"; do case $fw in bios|uefi|uefi-edk2) ;; *) echo "usage: $0 [bios|uefi|uefi-edk2]..." >&2; exit 2 ;; esac; done
[ "$(id -u)" = 0 ] || { echo "capture-golden: must run as root" >&2; exit 2; }
mkdir -p "$out" "$work"

. test/e2e/lab/lab.sh
lab_trap
say() { echo "capture-golden: $*" >&2; }

boot_script() { # SERVER_IP
  cat <<EOF
#!ipxe
echo LAB-MARKER-1 platform=\${platform} chip=\${net0/chip} ip=\${net0/ip} filename=\${filename}
iseq \${net0/chip} virtio-net || goto done
echo LAB-CHAIN from the NIC ROM to Debian's iPXE
iseq \${platform} efi && chain tftp://$1/snponly.efi ||
iseq \${platform} pcbios && chain tftp://$1/undionly.kpxe ||
echo LAB-FAIL chain
:done
imgfetch tftp://$1/done.txt && echo LAB-MARKER-2 done.txt fetched || echo LAB-FAIL done.txt
reboot
EOF
}

capture() { # FIRMWARE INDEX
  local fw=$1 idx=$2 server rc=0 t_done t_exit
  lab_up "$idx" "$work/$fw" &&
    lab_host gw 1 --ipv6 &&       # LAB_GW: default route of every host, sends the IPv6 RAs
    lab_host dhcp 2 &&            # site DHCP server, no PXE options
    lab_host server 3 &&          # the boot server: dnsmasq here, our agent in the e2e tests
    lab_ra gw && lab_dhcp dhcp || return 1
  server=$(lab_ip server)
  lab_boot_files "$LAB_DIR/tftp" "$server" || return 1
  boot_script "$server" > "$LAB_DIR/tftp/boot.ipxe"
  lab_dnsmasq_proxy server "$LAB_DIR/tftp" &&
    lab_capture server dhcp 'udp port 67 or udp port 68 or udp port 69 or udp port 4011' &&
    lab_guest pxe "$fw" >/dev/null || return 1
  say "$fw: booting (TCG), logs in $LAB_DIR"
  wait_for_serial "$LAB_DIR/pxe.serial" 'LAB-MARKER-2|LAB-FAIL' "$tmo" "$(lab_pid guest-pxe)" >/dev/null || rc=$?
  t_done=$(lab_guest_elapsed pxe)
  _lab_serial_grep "$LAB_DIR/pxe.serial" 'LAB-MARKER-2' >/dev/null || rc=1
  [ $rc != 0 ] || lab_guest_wait pxe 60 || rc=1
  t_exit=$(lab_guest_elapsed pxe)
  lab_capture_stop dhcp
  lab_summary "$LAB_DIR/dhcp.pcap" > "$LAB_DIR/summary.txt" || true
  if [ $rc != 0 ]; then
    say "$fw: boot did not finish (rc=$rc after ${t_done}s); serial tail:"
    tr -d '\r' < "$LAB_DIR/pxe.serial" | tail -15 >&2
    return 1
  fi
  say "$fw: done.txt fetched after ${t_done}s, QEMU exited after ${t_exit}s"
  echo "$fw $t_done $t_exit" >> "$work/times"
  rm -f "$out/$fw"-*.bin "$out/$fw.pcap"
  tshark -r "$LAB_DIR/dhcp.pcap" -w "$out/$fw.pcap" -F pcap 'dhcp || tftp.opcode == 1' 2>/dev/null
  tshark -r "$out/$fw.pcap" -Y udp -T fields -E separator='|' -e frame.number -e ip.src -e udp.srcport \
    -e ip.dst -e udp.dstport -e udp.payload 2>/dev/null \
    | /usr/bin/python3 "$work/extract.py" "$fw" "$server" "$out" > "$work/$fw.rows"
}

cat > "$work/extract.py" <<'PY'
# stdin: tshark rows frame|src|sport|dst|dport|payload-hex. Writes <out>/<fw>-<kind>.bin for
# the first packet of each kind and prints one markdown table row per file.
import hashlib, sys
fw, server, out = sys.argv[1:4]
NBPS = {"undionly.kpxe", "snponly.efi"}
MSG = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 5: "ACK", 6: "NAK", 8: "INFORM"}

def options(p):
    o, i = {}, 240
    while i < len(p):
        code = p[i]
        if code == 0: i += 1; continue
        if code == 255: break
        ln = p[i + 1]; o.setdefault(code, p[i + 2:i + 2 + ln]); i += 2 + ln
    return o

def describe(p, o):
    d = [MSG.get(o.get(53, b"\0")[0], "?"), f"xid {p[4:8].hex()}"]
    if p[10] & 0x80: d.append("flags broadcast")
    for name, off in (("ciaddr", 12), ("yiaddr", 16), ("siaddr", 20)):
        if p[off:off + 4] != b"\0\0\0\0": d.append(f"{name} {'.'.join(map(str, p[off:off + 4]))}")
    f = p[108:236].split(b"\0")[0].decode(errors="replace")
    if f: d.append(f"file `{f}`")
    if 60 in o: d.append(f"60 `{o[60].decode(errors='replace')}`")
    if 93 in o: d.append(f"93 arch {int.from_bytes(o[93][:2], 'big')}")
    if 77 in o: d.append(f"77 `{o[77].decode(errors='replace')}`")
    if 175 in o: d.append(f"175 ({len(o[175])} B)")
    if 43 in o: d.append(f"43 `{o[43].hex()}`")
    d.append("options " + ",".join(str(c) for c in o))
    return "; ".join(d)

stage, seen = "firmware", set()
for line in sys.stdin:
    frame, src, sport, dst, dport, hexp = line.rstrip("\n").split("|")
    p = bytes.fromhex(hexp)
    if dport == "69":
        if p[:2] == b"\0\1" and p[2:].split(b"\0")[0].decode(errors="replace").rsplit("/", 1)[-1] in NBPS:
            stage = "ipxe"
        continue
    if len(p) < 240 or p[236:240] != b"\x63\x82\x53\x63":
        continue
    o = options(p)
    mt = o.get(53, b"\0")[0]
    if p[0] == 1 and dport == "67" and mt == 1: kind = f"{stage}-discover"
    elif p[0] == 1 and dport == "67" and mt == 3: kind = f"{stage}-request"
    elif p[0] == 1 and dport == "4011": kind = f"{stage}-request-4011"
    elif p[0] == 2 and src == server and sport == "67" and mt == 2:
        kind = "proxy-offer" if stage == "firmware" else "ipxe-proxy-offer"
    elif p[0] == 2 and src == server and sport == "4011":
        kind = "proxy-ack-4011" if stage == "firmware" else "ipxe-proxy-ack-4011"
    else:
        continue
    if kind in seen: continue
    seen.add(kind)
    name = f"{fw}-{kind}.bin"
    open(f"{out}/{name}", "wb").write(p)
    print(f"| `{name}` | {len(p)} | {frame} | {src}:{sport} → {dst}:{dport} | {describe(p, o)} | "
          f"`{hashlib.sha256(p).hexdigest()[:16]}` |")
for need in ("firmware-discover", "proxy-offer", "ipxe-discover"):
    if need not in seen:
        sys.exit(f"extract: {fw}: no {need} in the capture")
PY

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
failed=() labs=()
: > "$work/times"
for fw in "${fws[@]}"; do
  rc=0; capture "$fw" "$index" || rc=1
  lab_down
  [ $rc = 0 ] || failed+=("$fw")
  labs+=("\`$fw\` N = $index")
  index=$((index + 1))
done

version() { dpkg-query -W -f='${Package} ${Version}' "$1" 2>/dev/null || echo "$1 (not installed)"; }
{
  cat <<EOF
# Golden DHCP packets from real firmware

Generated by \`scripts/capture-golden.sh\` (do not edit by hand; run it again to refresh).
Each \`.bin\` file is the raw UDP payload (the BOOTP/DHCP message from \`op\` to the end
option, without IP/UDP headers) of one packet, as \`tshark -e udp.payload\` printed it.
Each \`<firmware>.pcap\` keeps the boot's DHCP, ProxyDHCP (4011) and TFTP read requests.

## How they were captured

- Command: \`sudo scripts/capture-golden.sh ${fws[*]}\` (as root), started $started,
  on $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), $(nproc) CPUs, no KVM.
- Packages: $(version qemu-system-x86), $(version ipxe), $(version ipxe-qemu),
  $(version ovmf), $(version seabios), $(version dnsmasq-base), $(version tcpdump), $(version tshark).
- Lab (\`test/e2e/lab/lab.sh\`): one bridge in its own network namespace; hosts
  \`gw\` 10.213.N.1 (IPv6 RA sender, dnsmasq ra-only), \`dhcp\` 10.213.N.2 (site DHCP server,
  dnsmasq, range .100-.199, no PXE options), \`server\` 10.213.N.3 (dnsmasq ProxyDHCP
  \`dhcp-range=10.213.N.0,proxy\` + TFTP; \`dhcp-match=set:ipxe,175\`; pxe-service
  x86PC → undionly.kpxe, x86-64_EFI → snponly.efi, iPXE → boot.ipxe); lab index
  $(IFS=,; echo "${labs[*]}" | sed 's/,/, /g'). tcpdump ran on \`eth0\` of \`server\` with the filter
  \`udp port 67 or udp port 68 or udp port 69 or udp port 4011\`, so the site server's
  unicast replies are not in the captures (the broadcast client packets are).
- Guest: QEMU under TCG, 256 MB, virtio-net-pci, MAC 52:54:00:12:34:56, SMBIOS UUID
  8b3e0a4c-5a1b-4d2e-9f00-123456789abc (option 97), \`-no-reboot\`:
  - \`bios\`: machine pc, SeaBIOS + QEMU's default NIC ROM (efi-virtio.rom from ipxe-qemu: iPXE).
  - \`uefi\`: machine q35, \`-bios /usr/share/ovmf/OVMF.fd\` + the same ROM (its iPXE EFI driver).
  - \`uefi-edk2\`: machine q35, OVMF, NIC with \`romfile=\` (no ROM): EDK2's own PxeBcDxe.
- "firmware" = the first DHCP client on the wire (for bios and uefi that is the ROM's iPXE,
  which already sends options 77 and 175); "ipxe" = Debian's undionly.kpxe / snponly.efi
  after the chainload (from EDK2 via dnsmasq; from the ROM iPXE via boot.ipxe, see the
  script header). Transaction ids are random, so a new run changes the bytes.

The TFTP root held Debian's \`undionly.kpxe\` and \`snponly.efi\`, \`done.txt\` and this
\`boot.ipxe\` (SERVER = the server's address):

\`\`\`
$(boot_script SERVER)
\`\`\`

## Boot times under TCG (QEMU start → done.txt fetched / QEMU exited)

| firmware | done.txt fetched | QEMU exited |
|---|---|---|
EOF
  while read -r fw td te; do echo "| $fw | ${td} s | ${te} s |"; done < "$work/times"
  for fw in "${fws[@]}"; do
    [ -s "$work/$fw.rows" ] || continue
    printf '\n## %s\n\n| file | bytes | frame | from → to | content | sha256 (16) |\n|---|---|---|---|---|---|\n' "$fw"
    cat "$work/$fw.rows"
  done
} > "$work/README.md"
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]} (logs in $work); README.md not updated"
  exit 1
fi
cp "$work/README.md" "$out/README.md"
say "wrote $(ls "$out" | wc -l) files to $out (logs in $work)"
