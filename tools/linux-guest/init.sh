#!/bin/sh
# /init of the Linux guest initramfs (tools/linux-guest/build copies this file in).
# Kernel command line options (all optional):
#   keel.ip=198.18.0.2/24  address of eth0          keel.iperf=0      do not start iperf3 -s
#   keel.udpsink=PORT      run `framegen --recv-udp PORT` in a loop; each burst ends with a
#                          "framegen-recv: final ..." line on the console (2 s after its last frame)
#   keel.stats=SECS        print eth0's /proc/net/dev line every SECS as "STATS eth0: ..."
#   keel.shell=1           interactive shell on the console instead of sleeping
#   keel.http=1            start nginx (/etc/nginx/nginx.conf: port 80, one worker, /bytes/612)
#   keel.echo=1            a TCP echo server on port 7 (busybox nc running cat for each connection)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
exec 0</dev/console 1>/dev/console 2>&1

IP=198.18.0.2/24 IPERF=1 UDPSINK='' STATS='' WANT_SHELL=0 HTTP=0 ECHO=0
for w in $(cat /proc/cmdline); do
  case "$w" in
    keel.ip=*) IP="${w#keel.ip=}" ;;
    keel.iperf=*) IPERF="${w#keel.iperf=}" ;;
    keel.udpsink=*) UDPSINK="${w#keel.udpsink=}" ;;
    keel.stats=*) STATS="${w#keel.stats=}" ;;
    keel.shell=*) WANT_SHELL="${w#keel.shell=}" ;;
    keel.http=*) HTTP="${w#keel.http=}" ;;
    keel.echo=*) ECHO="${w#keel.echo=}" ;;
  esac
done

for m in virtio_ring virtio virtio_mmio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"
done

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e /sys/class/net/eth0 ]; then
  echo "KEEL-LINUX-GUEST-FAILED: no eth0"
else
  ip link set lo up
  ip addr add "$IP" dev eth0
  ip link set eth0 up
  [ "$IPERF" = 1 ] && { iperf3 -s >/tmp/iperf3.log 2>&1 & }
  if [ "$HTTP" = 1 ]; then nginx || echo "init: nginx failed: $(cat /tmp/nginx-error.log)"; fi
  [ "$ECHO" = 1 ] && { nc -ll -p 7 -e cat & }
  [ -n "$UDPSINK" ] && { while :; do framegen --recv-udp "$UDPSINK" --idle 2; done & }
  [ -n "$STATS" ] && { while :; do sleep "$STATS"; echo "STATS $(grep eth0: /proc/net/dev)"; done & }
  sleep 0.2
  echo "KEEL-LINUX-GUEST-READY ip=$IP mac=$(cat /sys/class/net/eth0/address) kernel=$(uname -r)"
fi

if [ "$WANT_SHELL" = 1 ]; then
  while :; do setsid cttyhack sh; sleep 1; done
fi
while :; do sleep 3600; done
