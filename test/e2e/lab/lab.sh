#!/usr/bin/env bash
# lab.sh - network lab for the end-to-end PXE tests (root, Debian 12, no KVM needed).
#
# One lab = one L2 segment: a Linux bridge `br0` in its own network namespace
# (`<prefix>sw`) and any number of hosts, each a namespace with `eth0` on the
# bridge. On it run an IPv6 RA sender (so iPXE does not wait 16 s for IPv6
# autoconfiguration), a site DHCP server (dnsmasq), a boot server (dnsmasq's
# ProxyDHCP, or ours: any command run in a host namespace) and QEMU guests
# whose NIC is a tap on the bridge. Nothing leaves the lab's namespaces.
#
# Two ways to use it:
#   source test/e2e/lab/lab.sh; lab_up 3; lab_trap; lab_host server 3 ...
#   eval "$(test/e2e/lab/lab.sh up 3)"; test/e2e/lab/lab.sh host server 3 ...
# The CLI form maps `lab.sh foo-bar ARGS` to `lab_foo_bar ARGS` and finds the
# lab through LAB_DIR (printed by `up`). The full interface, with an example
# that puts our agent in dnsmasq's place, is in test/e2e/lab/README.md.
#
# Parallel labs: namespaces are named `nb<owner-pid>-<index>-<host>` and the
# subnets are derived from the index (10.213.<index>.0/24,
# fd00:213:0:<index hex>::/64), so distinct indexes (or distinct owners) never
# collide. Everything a lab starts is inside its namespaces; `lab_down` kills
# exactly the processes found in them (ip netns pids) and deletes them.

LAB_SH=${BASH_SOURCE[0]}
LAB_IPXE_DIR=${LAB_IPXE_DIR:-/usr/lib/ipxe}
LAB_OVMF=${LAB_OVMF:-/usr/share/ovmf/OVMF.fd}
LAB_QEMU=${LAB_QEMU:-qemu-system-x86_64}

_lab_err() { echo "lab: $*" >&2; return 1; }
_lab_now() { local t=${EPOCHREALTIME/./}; echo "${t:-$(date +%s%6N)}"; }
_lab_load() {
  [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/env" ] || { _lab_err "no lab: run lab_up first (or set LAB_DIR)"; return 1; }
  . "$LAB_DIR/env"
}

# lab_up INDEX [DIR] - create the segment: namespace <prefix>sw with bridge br0.
#   INDEX 0..254 picks the subnets: IPv4 10.213.INDEX.0/24, IPv6 fd00:213:0:<hex>::/64.
#   DIR (default: a new mktemp -d) holds logs, pid files, serial consoles, captures.
#   Env: LAB_OWNER_PID (default: this shell when sourced, the caller when run as a
#   command) goes into the prefix; LAB_PREFIX overrides the prefix entirely.
#   Sets and writes to DIR/env: LAB_INDEX LAB_PREFIX LAB_DIR LAB_NET LAB_NET6 LAB_GW LAB_OWNER_PID.
lab_up() {
  local idx=${1:?usage: lab_up INDEX [DIR]} dir=${2:-}
  case $idx in ''|*[!0-9]*) _lab_err "index must be 0..254"; return 1 ;; esac
  [ "$idx" -le 254 ] || { _lab_err "index must be 0..254"; return 1; }
  [ "$(id -u)" = 0 ] || { _lab_err "must run as root"; return 1; }
  local owner=${LAB_OWNER_PID:-$BASHPID}
  local prefix=${LAB_PREFIX:-nb$owner-$idx-}
  [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/nblab-$idx.XXXXXX") || return 1
  mkdir -p "$dir" || return 1
  if [ -e "/run/netns/${prefix}sw" ]; then _lab_err "namespace ${prefix}sw exists already"; return 1; fi
  LAB_INDEX=$idx LAB_PREFIX=$prefix LAB_DIR=$(cd "$dir" && pwd) LAB_OWNER_PID=$owner
  LAB_NET=10.213.$idx LAB_NET6=fd00:213:0:$(printf %x "$idx") LAB_GW=10.213.$idx.1
  cat > "$LAB_DIR/env" <<EOF
LAB_INDEX=$LAB_INDEX
LAB_PREFIX=$LAB_PREFIX
LAB_DIR=$LAB_DIR
LAB_NET=$LAB_NET
LAB_NET6=$LAB_NET6
LAB_GW=$LAB_GW
LAB_OWNER_PID=$LAB_OWNER_PID
EOF
  export LAB_INDEX LAB_PREFIX LAB_DIR LAB_NET LAB_NET6 LAB_GW LAB_OWNER_PID
  : > "$LAB_DIR/hosts"
  local sw=${prefix}sw
  ip netns add "$sw" || return 1
  ip -n "$sw" link set lo up
  # no STP, no forwarding delay, no multicast snooping: a frame is on every port at once
  ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || { lab_down; return 1; }
  ip netns exec "$sw" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
  ip -n "$sw" link set br0 up
}

# lab_ns NAME - the namespace of host NAME (`sw` is the bridge's namespace).
lab_ns() { _lab_load || return 1; echo "${LAB_PREFIX}${1:?usage: lab_ns NAME}"; }

# lab_ip NAME [6] - IPv4 (or IPv6 with `6`) address of host NAME, without prefix length.
lab_ip() {
  _lab_load || return 1
  local name=${1:?usage: lab_ip NAME [6]} fam=${2:-4} n
  n=$(awk -v h="$name" '$1 == h { print $2 }' "$LAB_DIR/hosts")
  [ -n "$n" ] || { _lab_err "no host $name"; return 1; }
  if [ "$fam" = 6 ]; then echo "$LAB_NET6::$(printf %x "$n")"; else echo "$LAB_NET.$n"; fi
}

# lab_host NAME N [--ipv6] - add host NAME (a namespace) with eth0 = LAB_NET.N/24 on the
#   bridge, default route via LAB_GW (on-link default for the host that is LAB_GW itself,
#   so broadcasts from e.g. Node's dgram have a route) and, with --ipv6, LAB_NET6::N/64.
#   The MAC is fixed (02:4e:42:<index>:00:<N>) so captures are reproducible.
#   NAME: up to 12 characters ([a-z0-9-]); N: 1..254 (1 = LAB_GW).
lab_host() {
  _lab_load || return 1
  local name=${1:?usage: lab_host NAME N [--ipv6]} n=${2:?usage: lab_host NAME N [--ipv6]} v6=0
  shift 2
  while [ $# -gt 0 ]; do case $1 in --ipv6) v6=1 ;; *) _lab_err "lab_host: unknown option $1"; return 1 ;; esac; shift; done
  [[ $name =~ ^[a-z0-9][a-z0-9-]{0,11}$ && $name != sw ]] || { _lab_err "bad host name '$name'"; return 1; }
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 254 ] || { _lab_err "host number must be 1..254"; return 1; }
  awk -v n="$n" '$2 == n { exit 1 }' "$LAB_DIR/hosts" || { _lab_err "host number $n is taken"; return 1; }
  local ns=${LAB_PREFIX}$name sw=${LAB_PREFIX}sw
  ip netns add "$ns" || return 1
  echo "$name $n $v6" >> "$LAB_DIR/hosts"
  ip -n "$ns" link set lo up
  ip link add "v-$name" netns "$sw" type veth peer name eth0 netns "$ns" \
    address "$(printf '02:4e:42:%02x:00:%02x' "$LAB_INDEX" "$n")" || return 1
  ip netns exec "$sw" sysctl -qw "net.ipv6.conf.v-$name.disable_ipv6=1"
  ip -n "$sw" link set "v-$name" master br0 up || return 1
  ip -n "$ns" addr add "$LAB_NET.$n/24" dev eth0 || return 1
  if [ "$v6" = 1 ]; then
    ip -n "$ns" addr add "$LAB_NET6::$(printf %x "$n")/64" dev eth0 nodad || return 1
  else
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
  fi
  ip -n "$ns" link set eth0 up || return 1
  if [ "$LAB_NET.$n" = "$LAB_GW" ]; then ip -n "$ns" route add default dev eth0
  else ip -n "$ns" route add default via "$LAB_GW" dev eth0 onlink; fi
}

# lab_exec NAME CMD... - run CMD in host NAME's namespace, in the foreground.
lab_exec() { local ns; ns=$(lab_ns "${1:?usage: lab_exec NAME CMD...}") || return 1; shift; ip netns exec "$ns" "$@"; }

# lab_run NAME LABEL CMD... - start CMD in the background in host NAME's namespace
#   (NAME `sw` = the bridge namespace). stdout+stderr go to LAB_DIR/LABEL.log, the pid
#   to LAB_DIR/LABEL.pid; prints the pid. This is how a boot server (ours or dnsmasq)
#   is put on the segment; lab_down kills it.
lab_run() {
  local name=${1:?usage: lab_run NAME LABEL CMD...} label=${2:?usage: lab_run NAME LABEL CMD...} ns pid
  shift 2
  ns=$(lab_ns "$name") || return 1
  [ -e "/run/netns/$ns" ] || { _lab_err "no namespace $ns"; return 1; }
  ip netns exec "$ns" "$@" </dev/null >"$LAB_DIR/$label.log" 2>&1 &
  pid=$!
  echo "$pid" > "$LAB_DIR/$label.pid"
  echo "$pid"
}

# lab_pid LABEL - pid of a process started with lab_run (or lab_guest: label guest-NAME).
lab_pid() { _lab_load && cat "$LAB_DIR/${1:?usage: lab_pid LABEL}.pid"; }

# lab_alive LABEL - true while that process runs.
lab_alive() { local p; p=$(lab_pid "$1" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# lab_stop LABEL [TIMEOUT_S] - SIGTERM the process, SIGKILL after TIMEOUT_S (default 5).
#   Only kills it if it still lives in one of this lab's namespaces (no pid reuse accidents).
lab_stop() {
  _lab_load || return 1
  local label=${1:?usage: lab_stop LABEL [TIMEOUT_S]} tmo=${2:-5} pid i
  pid=$(cat "$LAB_DIR/$label.pid" 2>/dev/null) || return 0
  _lab_ours "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < tmo * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  return 0
}
_lab_ours() { local ns; ns=$(ip netns identify "$1" 2>/dev/null) && [[ -n $ns && $ns == "$LAB_PREFIX"* ]]; }

# lab_wait_port NAME PROTO PORT [TIMEOUT_S] - wait until something listens on PROTO (udp|tcp)
#   PORT in host NAME's namespace (default timeout 10 s).
lab_wait_port() {
  local name=${1:?} proto=${2:?} port=${3:?} tmo=${4:-10} i flag=-uln
  [ "$proto" = tcp ] && flag=-tln
  for ((i = 0; i < tmo * 10; i++)); do
    lab_exec "$name" ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  _lab_err "nothing listens on $proto/$port in $(lab_ns "$name") after ${tmo}s"
}

# lab_ra NAME - IPv6 router advertisements for LAB_NET6::/64 from host NAME (added with
#   --ipv6). dnsmasq with only an ra-only range: no DNS, no DHCPv4, no DHCPv6 socket, so it
#   can share a namespace with any DHCP server. Label `ra`.
lab_ra() {
  _lab_load || return 1
  local name=${1:?usage: lab_ra NAME}
  [ "$(awk -v h="$name" '$1 == h { print $3 }' "$LAB_DIR/hosts")" = 1 ] || { _lab_err "lab_ra: host $name has no IPv6 (lab_host ... --ipv6)"; return 1; }
  lab_run "$name" ra dnsmasq -k --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces \
    --user=root --pid-file="$LAB_DIR/ra.dnsmasq.pid" --dhcp-leasefile="$LAB_DIR/ra.leases" \
    --log-facility=- --enable-ra --dhcp-range="$LAB_NET6::,ra-only" >/dev/null
}

# lab_dhcp NAME [--pxeclient] [--range FIRST,LAST] [--label L] [-- DNSMASQ_ARGS...]
#   The site DHCP server: dnsmasq on host NAME leasing LAB_NET.FIRST..LAST (default
#   100..199, 1 h), router LAB_GW, no PXE options. With --pxeclient it adds option 60
#   "PXEClient" to its replies to PXE clients (those whose option 60 starts with PXEClient):
#   the "proxy-colocated" mode, where the firmware then sends its DHCPREQUEST to UDP 4011 on
#   this same host, so the boot server runs in NAME's namespace listening on 4011 only.
#   dnsmasq binds 67 only (no pxe-service, so never 4011). Log: LAB_DIR/L.log (default dhcp).
lab_dhcp() {
  _lab_load || return 1
  local name=${1:?usage: lab_dhcp NAME [--pxeclient] [--range FIRST,LAST] [--label L] [-- ARGS]} pxe=0 first=100 last=199 label=dhcp
  shift
  local extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --pxeclient) pxe=1 ;;
      --range) first=${2%,*}; last=${2#*,}; shift ;;
      --label) label=$2; shift ;;
      --) shift; extra=("$@"); break ;;
      *) _lab_err "lab_dhcp: unknown option $1"; return 1 ;;
    esac
    shift
  done
  local args=(dnsmasq -k --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces --user=root
    --no-resolv --no-hosts --log-dhcp --log-facility=- --pid-file="$LAB_DIR/$label.dnsmasq.pid"
    --dhcp-leasefile="$LAB_DIR/$label.leases" --dhcp-authoritative --no-ping
    --dhcp-range="$LAB_NET.$first,$LAB_NET.$last,255.255.255.0,1h" --dhcp-option=option:router,"$LAB_GW")
  if [ "$pxe" = 1 ]; then
    args+=(--dhcp-vendorclass=set:pxe,PXEClient --dhcp-option-force=tag:pxe,option:vendor-class,PXEClient)
  fi
  lab_run "$name" "$label" "${args[@]}" "${extra[@]}" >/dev/null && lab_wait_port "$name" udp 67
}

# lab_boot_files DIR SERVER_IP - fill a TFTP root: undionly.kpxe and snponly.efi (Debian's
#   ipxe package) and boot.ipxe, an iPXE script that prints LAB-MARKER-1 with the client's
#   view, fetches done.txt over TFTP from SERVER_IP, prints LAB-MARKER-2 (or LAB-FAIL) and
#   reboots, which ends QEMU (-no-reboot). Debian 12's iPXE has no poweroff command, and
#   ${next-server} in the script is the site DHCP server's siaddr: hence SERVER_IP.
lab_boot_files() {
  local dir=${1:?usage: lab_boot_files DIR SERVER_IP} server=${2:?usage: lab_boot_files DIR SERVER_IP}
  mkdir -p "$dir" && cp "$LAB_IPXE_DIR/undionly.kpxe" "$LAB_IPXE_DIR/snponly.efi" "$dir/" || return 1
  echo lab-ok > "$dir/done.txt"
  cat > "$dir/boot.ipxe" <<EOF
#!ipxe
echo LAB-MARKER-1 platform=\${platform} chip=\${net0/chip} mac=\${net0/mac} ip=\${net0/ip} filename=\${filename}
imgfetch tftp://$server/done.txt && echo LAB-MARKER-2 done.txt fetched || echo LAB-FAIL done.txt
reboot
EOF
}

# lab_dnsmasq_proxy NAME TFTP_ROOT [--label L] [-- DNSMASQ_ARGS...] - the reference boot server
#   (what ours replaces): dnsmasq ProxyDHCP (UDP 67 + 4011) and TFTP on host NAME. Firmware
#   gets undionly.kpxe (BIOS) or snponly.efi (x86-64 EFI); iPXE (option 175 or user class
#   iPXE) gets boot.ipxe, so the chainloaded iPXE does not loop. Label default `proxy`.
lab_dnsmasq_proxy() {
  _lab_load || return 1
  local name=${1:?usage: lab_dnsmasq_proxy NAME TFTP_ROOT} root=${2:?usage: lab_dnsmasq_proxy NAME TFTP_ROOT} label=proxy
  shift 2
  local extra=()
  while [ $# -gt 0 ]; do
    case $1 in --label) label=$2; shift ;; --) shift; extra=("$@"); break ;; *) _lab_err "lab_dnsmasq_proxy: unknown option $1"; return 1 ;; esac
    shift
  done
  lab_run "$name" "$label" dnsmasq -k --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces \
    --user=root --no-resolv --no-hosts --log-dhcp --log-facility=- --pid-file="$LAB_DIR/$label.dnsmasq.pid" \
    --dhcp-leasefile="$LAB_DIR/$label.leases" --dhcp-range="$LAB_NET.0,proxy,255.255.255.0" \
    --dhcp-match=set:ipxe,175 --dhcp-userclass=set:ipxe,iPXE \
    '--pxe-service=tag:!ipxe,x86PC,lab BIOS -> iPXE,undionly.kpxe' \
    '--pxe-service=tag:!ipxe,x86-64_EFI,lab UEFI -> iPXE,snponly.efi' \
    '--pxe-service=tag:ipxe,x86PC,lab iPXE script,boot.ipxe' \
    '--pxe-service=tag:ipxe,x86-64_EFI,lab iPXE script,boot.ipxe' \
    --enable-tftp --tftp-root="$root" "${extra[@]}" >/dev/null \
    && lab_wait_port "$name" udp 67 && lab_wait_port "$name" udp 4011
}

# lab_capture NAME LABEL [PCAP_FILTER...] - tcpdump on eth0 of host NAME (br0 for `sw`)
#   into LAB_DIR/LABEL.pcap, packet-buffered; returns once tcpdump listens.
lab_capture() {
  _lab_load || return 1
  local name=${1:?usage: lab_capture NAME LABEL [FILTER]} label=${2:?usage: lab_capture NAME LABEL [FILTER]} dev=eth0 i
  shift 2
  [ "$name" = sw ] && dev=br0
  lab_run "$name" "$label" tcpdump -i "$dev" -n -U --immediate-mode -s 0 -w "$LAB_DIR/$label.pcap" "$@" >/dev/null || return 1
  for ((i = 0; i < 100; i++)); do grep -q listening "$LAB_DIR/$label.log" 2>/dev/null && return 0; sleep 0.1; done
  _lab_err "tcpdump did not start: $(cat "$LAB_DIR/$label.log")"
}

# lab_capture_stop LABEL - stop a capture (tcpdump flushes the pcap on SIGTERM).
lab_capture_stop() { sleep 0.3; lab_stop "$1" 5; }

# lab_guest NAME FIRMWARE [--mac MAC] [--uuid UUID] [--mem MB] [--nic DEVICE] [-- QEMU_ARGS...]
#   Boot a QEMU guest from the network: tap t-NAME on the bridge, TCG (no KVM), serial
#   console to LAB_DIR/NAME.serial, -no-reboot (a reboot or poweroff ends QEMU).
#   FIRMWARE: bios      = machine pc, SeaBIOS + the iPXE option ROM of QEMU's NIC
#             uefi      = machine q35, OVMF + the iPXE (EFI driver) option ROM
#             uefi-edk2 = machine q35, OVMF without option ROM (romfile=): EDK2's own PXE
#   The iPXE ROM is QEMU's default for the NIC model (efi-virtio.rom from ipxe-qemu for
#   virtio-net-pci): QEMU patches the PCI ids only into its default ROM, and SeaBIOS skips a
#   ROM whose ids do not match (the file says 1af4:1041, the transitional NIC is 1af4:1000),
#   so never name the file with romfile=.
#   Defaults: MAC 52:54:00:12:34:56, UUID 8b3e0a4c-5a1b-4d2e-9f00-123456789abc, 256 MB,
#   NIC virtio-net-pci (any QEMU NIC model with an iPXE ROM works: e1000, rtl8139, ...).
#   Label guest-NAME; start time (µs) in LAB_DIR/NAME.start; command in LAB_DIR/NAME.cmdline.
#   Env: LAB_QEMU (binary), LAB_OVMF (firmware image), LAB_QEMU_ACCEL (default tcg).
lab_guest() {
  _lab_load || return 1
  local name=${1:?usage: lab_guest NAME FIRMWARE [opts]} fw=${2:?usage: lab_guest NAME FIRMWARE [opts]}
  local mac=52:54:00:12:34:56 uuid=8b3e0a4c-5a1b-4d2e-9f00-123456789abc mem=256 nic=virtio-net-pci extra=()
  shift 2
  while [ $# -gt 0 ]; do
    case $1 in
      --mac) mac=$2; shift ;; --uuid) uuid=$2; shift ;; --mem) mem=$2; shift ;; --nic) nic=$2; shift ;;
      --) shift; extra=("$@"); break ;;
      *) _lab_err "lab_guest: unknown option $1"; return 1 ;;
    esac
    shift
  done
  [[ $name =~ ^[a-z0-9][a-z0-9-]{0,11}$ ]] || { _lab_err "bad guest name '$name'"; return 1; }
  local sw=${LAB_PREFIX}sw tap=t-$name accel=${LAB_QEMU_ACCEL:-tcg}
  local q=("$LAB_QEMU" -name "$name" -m "$mem" -smp 1 -uuid "$uuid" -nographic -monitor none
    -serial "file:$LAB_DIR/$name.serial" -no-reboot -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
  case $fw in
    bios) q+=(-machine "pc,accel=$accel" -boot n -device "$nic,netdev=n0,mac=$mac") ;;
    uefi) q+=(-machine "q35,accel=$accel" -bios "$LAB_OVMF" -device "$nic,netdev=n0,mac=$mac,bootindex=1") ;;
    uefi-edk2) q+=(-machine "q35,accel=$accel" -bios "$LAB_OVMF" -device "$nic,netdev=n0,mac=$mac,bootindex=1,romfile=") ;;
    *) _lab_err "lab_guest: firmware must be bios, uefi or uefi-edk2"; return 1 ;;
  esac
  q+=("${extra[@]}")
  ip -n "$sw" tuntap add dev "$tap" mode tap || return 1
  ip netns exec "$sw" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
  ip -n "$sw" link set "$tap" master br0 up || return 1
  : > "$LAB_DIR/$name.serial"
  printf '%q ' "${q[@]}" > "$LAB_DIR/$name.cmdline"; echo >> "$LAB_DIR/$name.cmdline"
  _lab_now > "$LAB_DIR/$name.start"
  lab_run sw "guest-$name" "${q[@]}"
}

# lab_guest_wait NAME [TIMEOUT_S] - wait until guest NAME's QEMU exits (default 300 s).
lab_guest_wait() {
  local name=${1:?usage: lab_guest_wait NAME [TIMEOUT_S]} tmo=${2:-300} pid i
  pid=$(lab_pid "guest-$name") || return 1
  for ((i = 0; i < tmo * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  _lab_err "guest $name still running after ${tmo}s"
}

# lab_guest_elapsed NAME - seconds (3 decimals) since guest NAME was started.
lab_guest_elapsed() {
  _lab_load || return 1
  local t0 d; t0=$(cat "$LAB_DIR/${1:?}.start") || return 1
  d=$(( $(_lab_now) - t0 ))
  printf '%d.%03d\n' $((d / 1000000)) $((d / 1000 % 1000))
}

# wait_for_serial FILE REGEX TIMEOUT_S [PID] - poll FILE (e.g. LAB_DIR/NAME.serial) until a
#   line matches the extended REGEX. 0 = matched, 1 = timeout, 2 = PID (e.g. the guest's
#   QEMU) exited without a match. Prints the first matching line on stdout. CRs and ANSI
#   escapes are stripped before matching.
wait_for_serial() {
  local file=${1:?usage: wait_for_serial FILE REGEX TIMEOUT_S [PID]} re=${2:?} tmo=${3:?} pid=${4:-} end dead=0
  end=$(( $(_lab_now) + tmo * 1000000 ))
  while :; do
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && dead=1
    _lab_serial_grep "$file" "$re" && return 0
    [ $dead = 1 ] && return 2
    [ "$(_lab_now)" -lt "$end" ] || return 1
    sleep 0.2
  done
}
_lab_serial_grep() { tr -d '\r' < "$1" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | grep -aEm1 -- "$2"; }
lab_wait_for_serial() { wait_for_serial "$@"; }

# lab_summary PCAP - one line per DHCP packet and TFTP request (tshark), for logs and reports.
lab_summary() {
  tshark -r "${1:?usage: lab_summary PCAP}" -Y 'dhcp || tftp.opcode == 1 || tftp.opcode == 5 || tftp.opcode == 6' \
    -T fields -E separator=' ' -e frame.number -e frame.time_relative -e ip.src -e udp.srcport \
    -e ip.dst -e udp.dstport -e _ws.col.Info 2>/dev/null
}

# lab_down [--purge] - kill every process in this lab's namespaces (ip netns pids: dnsmasq,
#   tcpdump, QEMU, our agent, anything the caller started there), delete the namespaces.
#   Keeps LAB_DIR (logs, captures) unless --purge. Safe to call twice.
lab_down() {
  [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/env" ] && . "$LAB_DIR/env"
  [ -n "${LAB_PREFIX:-}" ] || return 0
  _lab_kill_prefix "$LAB_PREFIX"
  if [ "${1:-}" = --purge ] && [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/env" ]; then rm -rf "$LAB_DIR"; fi
  return 0
}
_lab_kill_prefix() {
  local prefix=$1 ns nss=() pids=() p i alive
  for ns in $(ip netns list | awk '{ print $1 }'); do [[ $ns == "$prefix"* ]] && nss+=("$ns"); done
  for ns in "${nss[@]}"; do pids+=($(ip netns pids "$ns" 2>/dev/null)); done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
      alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break; sleep 0.1
    done
    [ $alive = 1 ] && kill -KILL "${pids[@]}" 2>/dev/null
  fi
  for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null; done
  return 0
}

# lab_trap - when sourced: tear the lab down when the calling shell exits (also on
#   INT/TERM and on failure under set -e).
lab_trap() { trap 'lab_down' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; }

# lab_gc [MIN_AGE_S] - delete leftovers of crashed runs: namespaces nb<pid>-<index>-* (and the
#   processes in them) whose owner pid is gone and that are older than MIN_AGE_S (default
#   600; a CLI caller that let LAB_OWNER_PID default to a short-lived shell still has time).
lab_gc() {
  local min_age=${1:-600} ns owner age
  for ns in $(ip netns list | awk '{ print $1 }' | grep -E '^nb[0-9]+-[0-9]+-'); do
    owner=${ns#nb}; owner=${owner%%-*}
    kill -0 "$owner" 2>/dev/null && continue
    age=$(( $(date +%s) - $(stat -c %Y "/run/netns/$ns" 2>/dev/null || date +%s) ))
    [ "$age" -ge "$min_age" ] || continue
    _lab_kill_prefix "$(echo "$ns" | grep -oE '^nb[0-9]+-[0-9]+-')"
  done
}

# lab_env - print the lab's variables as shell assignments (for eval).
lab_env() { _lab_load && sed 's/^/export /' "$LAB_DIR/env"; }

# CLI: lab.sh SUBCOMMAND ARGS (SUBCOMMAND = function name without lab_, - for _).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  sub=${1:-help}; shift || true
  case $sub in
    up) LAB_OWNER_PID=${LAB_OWNER_PID:-$PPID}; lab_up "$@" && lab_env; exit ;;
    wait-for-serial|wait_for_serial) wait_for_serial "$@"; exit ;;
    help|-h|--help)
      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
      awk '/^# (lab_|wait_for)/ { on = 1 } on && /^#/ { sub(/^# ?/, ""); print; next } { on = 0 }' "$0"
      exit 0 ;;
  esac
  fn=lab_${sub//-/_}
  declare -F "$fn" >/dev/null || { echo "lab.sh: unknown subcommand $sub (try help)" >&2; exit 2; }
  "$fn" "$@"
fi
