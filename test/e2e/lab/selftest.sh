#!/usr/bin/env bash
# Self-test of the lab (root): boots real firmware under TCG in four scenarios and checks
# that the lab leaves no namespace behind. Each boot takes 5-15 s of one core.
#
#   proxy      dnsmasq ProxyDHCP (lab_dnsmasq_proxy), firmware bios + uefi-edk2
#   offer      a boot server started by the caller (labproxy.py --listen 67, no 4011
#              listener; TFTP from a DHCP-less dnsmasq): the boot file rides in the
#              proxy OFFER with option 43 sub-option 6 = 8; firmware bios + uefi-edk2 must
#              not send to 4011. Then the OFFER without option 43: EDK2 must go to 4011.
#   colocated  proxy-colocated mode driven through the CLI (lab.sh SUBCOMMAND, as a Node
#              test would): site dnsmasq with --pxeclient (+ TFTP), labproxy.py on 4011
#              only in the SAME namespace; firmware bios + uefi-edk2
#   parallel   two labs at once (distinct index and owner), each booting bios
#
# usage: test/e2e/lab/selftest.sh [SCENARIO...]     exit 0 = all passed
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LABSH=$here/lab.sh
scenarios=("$@"); [ ${#scenarios[@]} -gt 0 ] || scenarios=(proxy offer colocated parallel)
base=${SELFTEST_INDEX:-200}
work=$(mktemp -d "${TMPDIR:-/tmp}/lab-selftest.XXXXXX")   # removed when all pass
results=()
. "$LABSH"

# boot FW TFTP_HOST - boot guest `pxe`, wait for done.txt, print the time; 0 = success
boot() {
  local fw=$1 r
  lab_guest pxe "$fw" >/dev/null || return 1
  r=$(wait_for_serial "$LAB_DIR/pxe.serial" 'LAB-MARKER-2|LAB-FAIL' 300 "$(lab_pid guest-pxe)")
  local rc=$? t; t=$(lab_guest_elapsed pxe)
  lab_guest_wait pxe 30 >/dev/null 2>&1 || lab_stop guest-pxe
  lab_exec sw ip link del t-pxe 2>/dev/null
  [ $rc = 0 ] && [[ $r == *LAB-MARKER-2* ]] || { echo "FAIL $fw after ${t}s: ${r:-no marker} (rc $rc, $LAB_DIR)"; return 1; }
  echo "ok ${t}s"
}

# requests_4011 PCAP - how many DHCP packets to UDP 4011 the capture holds
requests_4011() { tshark -r "$1" -Y 'udp.dstport == 4011 && dhcp' 2>/dev/null | wc -l; }

segment() { # INDEX: lab with gw (RA), dhcp, server
  lab_up "$1" "$work/$1" && lab_host gw 1 --ipv6 && lab_host dhcp 2 && lab_host server 3 && lab_ra gw
}

scenario_proxy() (
  segment $((base + 0)) && lab_trap || exit 1
  lab_dhcp dhcp && lab_boot_files "$LAB_DIR/tftp" "$(lab_ip server)" && lab_dnsmasq_proxy server "$LAB_DIR/tftp" || exit 1
  ok=0
  for fw in bios uefi-edk2; do r=$(boot "$fw") || ok=1; echo "proxy $fw: $r"; done
  exit $ok
)

scenario_offer() (
  segment $((base + 1)) && lab_trap || exit 1
  srv=$(lab_ip server)
  lab_dhcp dhcp && lab_boot_files "$LAB_DIR/tftp" "$srv" || exit 1
  # the caller's own boot server and a plain TFTP server, in the server namespace
  lab_run server agent /usr/bin/python3 "$here/labproxy.py" --server-ip "$srv" --listen 67 >/dev/null
  lab_run server tftp dnsmasq -k --conf-file=/dev/null --port=0 --interface=eth0 --bind-interfaces \
    --user=root --log-facility=- --pid-file= --enable-tftp --tftp-root="$LAB_DIR/tftp" >/dev/null
  lab_wait_port server udp 67 && lab_wait_port server udp 69 || exit 1
  ok=0
  for fw in bios uefi-edk2; do
    lab_capture server "cap-$fw" udp port 67 or udp port 68 or udp port 4011
    r=$(boot "$fw") || ok=1
    lab_capture_stop "cap-$fw"
    n=$(requests_4011 "$LAB_DIR/cap-$fw.pcap")
    echo "offer $fw: $r; DHCP packets to 4011: $n"
    [ "$n" = 0 ] || ok=1
  done
  # the same OFFER without option 43: EDK2 ignores its boot file and asks on 4011
  lab_stop agent
  lab_run server agent /usr/bin/python3 "$here/labproxy.py" --server-ip "$srv" --listen 67 --no-43 >/dev/null
  lab_wait_port server udp 67 || exit 1
  lab_capture server cap-no43 udp port 67 or udp port 68 or udp port 4011
  lab_guest pxe uefi-edk2 >/dev/null
  for ((i = 0; i < 120; i++)); do n=$(requests_4011 "$LAB_DIR/cap-no43.pcap"); [ "$n" -gt 0 ] && break; sleep 1; done
  echo "offer without option 43, uefi-edk2: DHCP packets to 4011 after $(lab_guest_elapsed pxe)s: $n"
  [ "$n" -gt 0 ] || ok=1
  exit $ok
)

scenario_colocated() (
  # the CLI form, as a test in another language drives it
  eval "$(LAB_OWNER_PID=$BASHPID "$LABSH" up $((base + 2)) "$work/$((base + 2))")" || exit 1
  trap '"$LABSH" down' EXIT
  "$LABSH" host gw 1 --ipv6 && "$LABSH" host dhcp 2 && "$LABSH" ra gw || exit 1
  dhcp_ip=$("$LABSH" ip dhcp)
  "$LABSH" boot-files "$LAB_DIR/tftp" "$dhcp_ip" || exit 1
  "$LABSH" dhcp dhcp --pxeclient -- --enable-tftp --tftp-root="$LAB_DIR/tftp" || exit 1
  # the agent listens on 4011 only, beside the site DHCP server that holds 67
  ip netns exec "$("$LABSH" ns dhcp)" /usr/bin/python3 "$here/labproxy.py" --server-ip "$dhcp_ip" --listen 4011 \
    </dev/null >"$LAB_DIR/agent.log" 2>&1 &
  "$LABSH" wait-port dhcp udp 4011 || exit 1
  ok=0
  for fw in bios uefi-edk2; do
    "$LABSH" guest pxe "$fw" >/dev/null || { ok=1; continue; }
    r=$("$LABSH" wait-for-serial "$LAB_DIR/pxe.serial" 'LAB-MARKER-2|LAB-FAIL' 300 "$("$LABSH" pid guest-pxe)")
    rc=$?; t=$("$LABSH" guest-elapsed pxe)
    "$LABSH" guest-wait pxe 30 >/dev/null 2>&1 || "$LABSH" stop guest-pxe
    ip netns exec "$("$LABSH" ns sw)" ip link del t-pxe
    if [ $rc = 0 ] && [[ $r == *LAB-MARKER-2* ]]; then echo "colocated $fw: ok ${t}s"; else echo "colocated $fw: FAIL ($r, $LAB_DIR)"; ok=1; fi
  done
  echo "colocated agent log:"; sed 's/^/  /' "$LAB_DIR/agent.log"
  [ "$(grep -c 'ACK snponly.efi' "$LAB_DIR/agent.log")" -ge 1 ] && [ "$(grep -c 'ACK boot.ipxe' "$LAB_DIR/agent.log")" -ge 2 ] || ok=1
  exit $ok
)

scenario_parallel() {
  local i pids=() ok=0
  for i in 3 4; do
    (
      segment $((base + i)) && lab_trap || exit 1
      lab_dhcp dhcp && lab_boot_files "$LAB_DIR/tftp" "$(lab_ip server)" && lab_dnsmasq_proxy server "$LAB_DIR/tftp" || exit 1
      r=$(boot bios); rc=$?
      echo "parallel lab $LAB_PREFIX ($LAB_NET.0/24): bios $r"
      exit $rc
    ) & pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || ok=1; done
  return $ok
}

rc=0
for s in "${scenarios[@]}"; do
  echo "== $s"
  if "scenario_$s"; then results+=("$s: pass"); else results+=("$s: FAIL"); rc=1; fi
done
left=$(ip netns list | grep -cE "^nb$$-|^nb[0-9]+-($base|$((base + 1))|$((base + 2))|$((base + 3))|$((base + 4)))-" || true)
[ "$left" = 0 ] || { results+=("cleanup: FAIL, $left namespaces left"); rc=1; }
printf '%s\n' "${results[@]}"
if [ $rc = 0 ]; then rm -rf "$work"; else echo "logs: $work"; fi
exit $rc
