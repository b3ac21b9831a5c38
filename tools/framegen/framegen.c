/*
 * framegen: inject raw Ethernet frames towards a QEMU guest through a tap device, and check them
 * on the way out.
 *
 * How frames reach the guest: QEMU reads the tap's file descriptor, and what a tap fd yields is
 * what the host *transmits* on the tap interface. So the sender uses an AF_PACKET raw socket bound
 * to the tap and transmits on it; the kernel hands each frame to the tap's queue, and QEMU reads
 * it and puts it in the guest's receive ring. (Writing into a second tap fd, even a multi-queue
 * one, would inject frames into the *host* stack instead, not towards the guest.)
 * If the tap's queue (txqueuelen, default 1000) is full because QEMU/the guest is slower than the
 * sender, the tap drops the frame and counts it in its tx_dropped; framegen reports that delta.
 *
 * Modes
 *   framegen -i TAP [options]        send frames (default mode)
 *   framegen --recv-udp [PORT]       receive UDP datagrams (e.g. inside a Linux guest) and verify
 *   framegen --recv-tap TAP          attach to TAP like QEMU does (TUNSETIFF) and verify frames
 *                                    the host transmits on it: a QEMU-free delivery check
 *
 * Frame layout (UDP/IPv4, no VLAN): 14 Ethernet + 20 IPv4 + 8 UDP + payload; size 60..1514 is the
 * frame without FCS, so the payload is size-42 (18..1472) bytes:
 *   payload[0..3]   "KFG1"
 *   payload[4..11]  sequence number, u64 big-endian, 0,1,2,... in send order
 *   payload[12..13] frame size, u16 big-endian
 *   payload[14..15] run id, u16 big-endian (random per run unless --run-id)
 *   payload[16..]   byte i = (uint8_t)(i + seq)
 * IPv4 header checksum and UDP checksum are valid. IP id = (uint16_t)seq, DF set, TTL 64.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MIN_FRAME 60
#define MAX_FRAME 1514
#define HDRS 42
#define BATCH 64

static volatile sig_atomic_t g_stop;
static void on_signal(int s) { (void)s; g_stop = 1; }

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "framegen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double parse_num(const char *s, const char *what) {
    char *end;
    double v = strtod(s, &end);
    if (end == s) die("bad number for %s: '%s'", what, s);
    if (*end == 'k' || *end == 'K') { v *= 1e3; end++; }
    else if (*end == 'm' || *end == 'M') { v *= 1e6; end++; }
    else if (*end == 'g' || *end == 'G') { v *= 1e9; end++; }
    if (*end) die("bad number for %s: '%s'", what, s);
    return v;
}

static void parse_mac(const char *s, uint8_t mac[6]) {
    unsigned m[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        die("bad MAC '%s'", s);
    for (int i = 0; i < 6; i++) {
        if (m[i] > 255) die("bad MAC '%s'", s);
        mac[i] = (uint8_t)m[i];
    }
}

/* The network rule: only 198.18.0.0/15. */
static uint32_t parse_test_ip(const char *s) {
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) die("bad IPv4 address '%s'", s);
    uint32_t h = ntohl(a.s_addr);
    if ((h & 0xfffe0000u) != 0xc6120000u) die("address %s is outside 198.18.0.0/15; refusing", s);
    return a.s_addr;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n) {
    while (n > 1) { sum += (uint32_t)p[0] << 8 | p[1]; p += 2; n -= 2; }
    if (n) sum += (uint32_t)p[0] << 8;
    return sum;
}
static uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

struct gen {
    uint8_t dst_mac[6], src_mac[6];
    uint32_t src_ip, dst_ip; /* network order */
    uint16_t sport, dport;
    uint16_t run_id;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }

static void build_frame(const struct gen *g, uint8_t *f, int size, uint64_t seq) {
    int plen = size - HDRS;
    memcpy(f, g->dst_mac, 6);
    memcpy(f + 6, g->src_mac, 6);
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = 0x45; ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + 8 + plen));
    put16(ip + 4, (uint16_t)seq);
    put16(ip + 6, 0x4000);
    ip[8] = 64; ip[9] = 17;
    put16(ip + 10, 0);
    memcpy(ip + 12, &g->src_ip, 4);
    memcpy(ip + 16, &g->dst_ip, 4);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    uint8_t *udp = ip + 20;
    put16(udp, g->sport);
    put16(udp + 2, g->dport);
    put16(udp + 4, (uint16_t)(8 + plen));
    put16(udp + 6, 0);
    uint8_t *pl = udp + 8;
    memcpy(pl, "KFG1", 4);
    for (int i = 0; i < 8; i++) pl[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
    put16(pl + 12, (uint16_t)size);
    put16(pl + 14, g->run_id);
    for (int i = 16; i < plen; i++) pl[i] = (uint8_t)(i + seq);
    /* UDP checksum over the pseudo-header, header and payload. */
    uint32_t sum = csum_add(0, ip + 12, 8);
    sum += 17 + (uint32_t)(8 + plen);
    sum = csum_add(sum, udp, (size_t)(8 + plen));
    uint16_t c = csum_fold(sum);
    put16(udp + 6, c ? c : 0xffff);
}

/* Verify a payload (the UDP data). Returns 0 if good; fills seq, size and run id. */
static int check_payload(const uint8_t *pl, int plen, uint64_t *seq, int *size, uint16_t *run) {
    if (plen < 16 || memcmp(pl, "KFG1", 4) != 0) return -1;
    *seq = get64(pl + 4);
    *size = get16(pl + 12);
    *run = get16(pl + 14);
    if (*size != plen + HDRS) return -2;
    for (int i = 16; i < plen; i++)
        if (pl[i] != (uint8_t)(i + *seq)) return -3;
    return 0;
}

/* ---------- statistics shared by the receivers ---------- */
struct rstats {
    uint64_t frames, good, bad, foreign, bytes;
    uint64_t dup_or_reorder, missing_done, runs;
    /* the current run (a new run id starts a new sequence space) */
    int have_seq;
    uint16_t run;
    uint64_t run_good, run_min, run_max, next_expected;
    int min_size, max_size;
};

static int64_t g_first_seq = -1; /* --first-seq: the sender's first sequence number, if known */

static uint64_t run_missing(const struct rstats *st) {
    if (!st->have_seq) return 0;
    uint64_t lo = g_first_seq >= 0 && (uint64_t)g_first_seq <= st->run_min ? (uint64_t)g_first_seq : st->run_min;
    uint64_t span = st->run_max - lo + 1;
    return span > st->run_good ? span - st->run_good : 0;
}

static void account(struct rstats *st, int rc, uint64_t seq, int size, uint16_t run, int len) {
    st->frames++;
    st->bytes += (uint64_t)len;
    if (rc == -1) { st->foreign++; return; }
    if (rc != 0) { st->bad++; return; }
    st->good++;
    if (size < st->min_size || st->min_size == 0) st->min_size = size;
    if (size > st->max_size) st->max_size = size;
    if (st->have_seq && run != st->run) {
        st->missing_done += run_missing(st);
        st->have_seq = 0;
    }
    if (!st->have_seq) {
        st->have_seq = 1; st->runs++; st->run = run; st->run_good = 1;
        st->run_min = st->run_max = seq; st->next_expected = seq + 1;
        return;
    }
    st->run_good++;
    if (seq == st->next_expected) st->next_expected++;
    else if (seq > st->next_expected) st->next_expected = seq + 1;
    else st->dup_or_reorder++;
    if (seq > st->run_max) st->run_max = seq;
    if (seq < st->run_min) st->run_min = seq;
}

static void report(const char *tag, const struct rstats *st, double secs, int final) {
    /* missing: sequence numbers never seen between the first (or --first-seq) and the highest */
    uint64_t missing = st->missing_done + run_missing(st);
    printf("framegen-%s:%s frames=%llu good=%llu bad=%llu foreign=%llu missing=%llu reordered=%llu "
           "runs=%llu run=%u seq=%lld..%lld sizes=%d..%d bytes=%llu secs=%.2f pps=%.0f\n",
           tag, final ? " final" : "", (unsigned long long)st->frames, (unsigned long long)st->good,
           (unsigned long long)st->bad, (unsigned long long)st->foreign, (unsigned long long)missing,
           (unsigned long long)st->dup_or_reorder, (unsigned long long)st->runs, st->run,
           st->have_seq ? (long long)st->run_min : -1LL, st->have_seq ? (long long)st->run_max : -1LL,
           st->min_size, st->max_size, (unsigned long long)st->bytes, secs,
           secs > 0 ? st->good / secs : 0.0);
    fflush(stdout);
}

struct recv_opts {
    double duration;   /* stop after this many seconds (0: no limit) */
    double idle;       /* stop after this many seconds without a frame once one was seen */
    double interval;   /* print a progress line every interval seconds (0: never) */
    uint64_t expect;   /* stop after this many good frames (0: no limit) */
};

static void recv_loop(int fd, int is_udp, const struct recv_opts *o) {
    static uint8_t buf[65536];
    struct rstats st = {0};
    double t0 = now_s(), last = t0, tick = t0, first = 0;
    while (!g_stop) {
        double t = now_s();
        if (o->duration > 0 && t - t0 >= o->duration) break;
        if (o->idle > 0 && st.frames > 0 && t - last >= o->idle) break;
        if (o->expect && st.good >= o->expect) break;
        if (o->interval > 0 && t - tick >= o->interval) { report(is_udp ? "recv" : "tap", &st, t - (first ? first : t0), 0); tick = t; }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        if (n < 0) { if (errno == EINTR) continue; die("poll: %s", strerror(errno)); }
        if (n == 0) continue;
        for (int k = 0; k < 256; k++) {
            ssize_t len = is_udp ? recv(fd, buf, sizeof buf, MSG_DONTWAIT) : read(fd, buf, sizeof buf);
            if (len < 0) { if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break; die("read: %s", strerror(errno)); }
            last = now_s();
            if (!first) first = last;
            uint64_t seq = 0; int size = 0; uint16_t run = 0; int rc;
            if (is_udp) {
                rc = check_payload(buf, (int)len, &seq, &size, &run);
            } else {
                /* a whole Ethernet frame: check headers first */
                if (len < HDRS || buf[12] != 0x08 || buf[13] != 0x00 || buf[23] != 17) rc = -1;
                else {
                    int plen = get16(buf + 38) - 8;
                    if (plen < 0 || HDRS + plen > len) rc = -2;
                    else if (csum_fold(csum_add(0, buf + 14, 20)) != 0) rc = -4;
                    else rc = check_payload(buf + HDRS, plen, &seq, &size, &run);
                    if (rc == 0 && size < MIN_FRAME) rc = -2;
                }
            }
            account(&st, rc, seq, size, run, (int)len);
        }
    }
    report(is_udp ? "recv" : "tap", &st, st.frames ? last - first : 0, 1);
}

static int open_tap(const char *name, int mq) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0) die("open /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (mq ? IFF_MULTI_QUEUE : 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF %s: %s (is it in use by QEMU, or multi_queue mismatch?)", name, strerror(errno));
    return fd;
}

static long read_stat(const char *ifname, const char *stat) {
    char path[256];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", ifname, stat);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

/* A sysfs counter kept open and re-read with pread (cheap enough to do per batch). */
static int open_stat(const char *ifname, const char *stat) {
    char path[256];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", ifname, stat);
    return open(path, O_RDONLY);
}
static long pread_stat(int fd) {
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0) return -1;
    b[n] = 0;
    return strtol(b, NULL, 10);
}

static void usage(void) {
    puts(
"usage:\n"
"  framegen -i TAP [send options]      send UDP/IPv4 frames out of TAP (towards the QEMU guest)\n"
"    -n, --count N          frames to send (default 1000; 0 = until --duration or Ctrl-C)\n"
"    -r, --rate PPS         frames per second (k/M suffixes); default: as fast as possible\n"
"        --flood            as fast as possible (default)\n"
"    -d, --duration SECS    stop after SECS (default: no limit)\n"
"    -s, --size N           frame size 60..1514 bytes without FCS (default 60)\n"
"        --sweep MIN:MAX[:STEP]  cycle the size MIN, MIN+STEP, .. MAX (default step 1);\n"
"                           without -n one pass is sent\n"
"        --dst-mac MAC      default 52:54:00:12:34:56\n"
"        --src-mac MAC      default: the tap's own MAC\n"
"        --dst-ip IP        default 198.18.0.2 (must be in 198.18.0.0/15)\n"
"        --src-ip IP        default 198.18.0.1 (must be in 198.18.0.0/15)\n"
"        --dport N          UDP destination port (default 9)\n"
"        --sport N          UDP source port (default 40000)\n"
"        --start-seq N      first sequence number (default 0)\n"
"        --run-id N         16-bit run id in every payload (default random)\n"
"        --batch N          frames per sendmmsg call when flooding (1..64, default 32)\n"
"        --lossless         never overfill the tap's queue: keep at most --max-backlog frames\n"
"                           that QEMU has not read yet (tap tx_packets), so the sender runs at\n"
"                           the speed the guest takes frames, without tap drops\n"
"        --max-backlog N    backlog limit for --lossless (default: the tap's txqueuelen / 2)\n"
"        --stall SECS       with --lossless, give up when QEMU reads nothing for SECS (default 5)\n"
"  framegen --recv-udp [PORT] [recv options]   bind UDP PORT (default 9), verify payloads\n"
"  framegen --recv-tap TAP [recv options]      attach to TAP as QEMU would, verify frames\n"
"        --tap-mq           open the tap with IFF_MULTI_QUEUE (tap created multi_queue)\n"
"    recv options: --duration SECS, --idle SECS (stop SECS after the last frame, default 2\n"
"                  once a frame arrived), --expect N (stop after N good frames),\n"
"                  --interval SECS (progress line every SECS), --first-seq N (the sender's\n"
"                  first sequence number, so that frames lost before the first one that\n"
"                  arrived count as missing; default: the lowest one seen)\n"
"  output (one line): framegen: sent=N bytes=B secs=T pps=X mbps=Y tap_tx=+A tap_tx_dropped=+D\n"
"    (tap_tx: frames QEMU has read from the tap by the end; tap_tx_dropped: frames the tap\n"
"     dropped because its queue was full)\n"
"                     framegen-recv|tap: final frames= good= bad= foreign= missing= reordered= ...");
}

int main(int argc, char **argv) {
    const char *ifname = NULL, *recv_tap = NULL;
    int recv_udp = 0, udp_port = 9, tap_mq = 0;
    uint64_t count = 1000;
    int count_given = 0;
    double rate = 0, duration = 0;
    int size = 60, smin = 0, smax = 0, sstep = 1, batch = 32, lossless = 0;
    long max_backlog = 0;
    double stall = 5;
    uint64_t start_seq = 0;
    long run_id = -1;
    struct gen g;
    memset(&g, 0, sizeof g);
    int have_src_mac = 0;
    parse_mac("52:54:00:12:34:56", g.dst_mac);
    g.src_ip = parse_test_ip("198.18.0.1");
    g.dst_ip = parse_test_ip("198.18.0.2");
    g.sport = 40000; g.dport = 9;
    struct recv_opts ro = {.duration = 0, .idle = 2, .interval = 0, .expect = 0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define ARG() (i + 1 < argc ? argv[++i] : (die("%s needs a value", a), (char *)0))
        if (!strcmp(a, "-i") || !strcmp(a, "--iface")) ifname = ARG();
        else if (!strcmp(a, "-n") || !strcmp(a, "--count")) { count = (uint64_t)parse_num(ARG(), a); count_given = 1; }
        else if (!strcmp(a, "-r") || !strcmp(a, "--rate")) rate = parse_num(ARG(), a);
        else if (!strcmp(a, "--flood")) rate = 0;
        else if (!strcmp(a, "-d") || !strcmp(a, "--duration")) { duration = parse_num(ARG(), a); ro.duration = duration; }
        else if (!strcmp(a, "-s") || !strcmp(a, "--size")) size = (int)parse_num(ARG(), a);
        else if (!strcmp(a, "--sweep")) {
            const char *v = ARG();
            int n = sscanf(v, "%d:%d:%d", &smin, &smax, &sstep);
            if (n < 2) die("--sweep MIN:MAX[:STEP]");
            if (n < 3) sstep = 1;
        }
        else if (!strcmp(a, "--dst-mac")) parse_mac(ARG(), g.dst_mac);
        else if (!strcmp(a, "--src-mac")) { parse_mac(ARG(), g.src_mac); have_src_mac = 1; }
        else if (!strcmp(a, "--dst-ip")) g.dst_ip = parse_test_ip(ARG());
        else if (!strcmp(a, "--src-ip")) g.src_ip = parse_test_ip(ARG());
        else if (!strcmp(a, "--dport")) g.dport = (uint16_t)parse_num(ARG(), a);
        else if (!strcmp(a, "--sport")) g.sport = (uint16_t)parse_num(ARG(), a);
        else if (!strcmp(a, "--start-seq")) start_seq = (uint64_t)parse_num(ARG(), a);
        else if (!strcmp(a, "--run-id")) run_id = (long)parse_num(ARG(), a) & 0xffff;
        else if (!strcmp(a, "--batch")) batch = (int)parse_num(ARG(), a);
        else if (!strcmp(a, "--lossless")) lossless = 1;
        else if (!strcmp(a, "--max-backlog")) { max_backlog = (long)parse_num(ARG(), a); lossless = 1; }
        else if (!strcmp(a, "--stall")) stall = parse_num(ARG(), a);
        else if (!strcmp(a, "--recv-udp")) {
            recv_udp = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') udp_port = (int)parse_num(argv[++i], a);
        }
        else if (!strcmp(a, "--recv-tap")) recv_tap = ARG();
        else if (!strcmp(a, "--tap-mq")) tap_mq = 1;
        else if (!strcmp(a, "--idle")) ro.idle = parse_num(ARG(), a);
        else if (!strcmp(a, "--expect")) ro.expect = (uint64_t)parse_num(ARG(), a);
        else if (!strcmp(a, "--interval")) ro.interval = parse_num(ARG(), a);
        else if (!strcmp(a, "--first-seq")) g_first_seq = (int64_t)parse_num(ARG(), a);
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else die("unknown option '%s' (try --help)", a);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (recv_udp) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) die("socket: %s", strerror(errno));
        int rcvbuf = 8 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)udp_port), .sin_addr.s_addr = htonl(INADDR_ANY)};
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind UDP %d: %s", udp_port, strerror(errno));
        printf("framegen-recv: listening on UDP port %d\n", udp_port);
        recv_loop(fd, 1, &ro);
        return 0;
    }
    if (recv_tap) {
        int fd = open_tap(recv_tap, tap_mq);
        printf("framegen-tap: attached to %s\n", recv_tap);
        recv_loop(fd, 0, &ro);
        return 0;
    }

    /* ---------- send ---------- */
    if (!ifname) { usage(); die("-i TAP is required"); }
    if (smin || smax) {
        if (smin < MIN_FRAME || smax > MAX_FRAME || smin > smax || sstep < 1) die("--sweep sizes must be within 60..1514, MIN <= MAX, STEP >= 1");
        if (!count_given) count = (uint64_t)((smax - smin) / sstep + 1);
    } else if (size < MIN_FRAME || size > MAX_FRAME) die("--size must be 60..1514");
    if (batch < 1 || batch > BATCH) die("--batch must be 1..%d", BATCH);
    if (rate > 0) batch = 1;
    if (run_id < 0) { srand((unsigned)(now_ns() ^ (uint64_t)getpid())); run_id = rand() & 0xffff; }
    g.run_id = (uint16_t)run_id;

    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
    if (fd < 0) die("socket(AF_PACKET): %s (needs root / CAP_NET_RAW)", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) die("interface %s: %s", ifname, strerror(errno));
    int ifindex = ifr.ifr_ifindex;
    if (!have_src_mac) {
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR %s: %s", ifname, strerror(errno));
        memcpy(g.src_mac, ifr.ifr_hwaddr.sa_data, 6);
    }
    struct sockaddr_ll ll;
    memset(&ll, 0, sizeof ll);
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = ifindex;
    ll.sll_halen = 6;
    memcpy(ll.sll_addr, g.dst_mac, 6);
    if (bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) die("bind to %s: %s", ifname, strerror(errno));
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    long tx0 = read_stat(ifname, "tx_packets"), drop0 = read_stat(ifname, "tx_dropped");
    int txfd = -1, dropfd = -1;
    if (lossless) {
        txfd = open_stat(ifname, "tx_packets");
        dropfd = open_stat(ifname, "tx_dropped");
        if (txfd < 0 || dropfd < 0 || tx0 < 0) die("--lossless needs /sys/class/net/%s/statistics (run inside the tap's netns)", ifname);
        if (max_backlog <= 0) {
            char path[256];
            snprintf(path, sizeof path, "/sys/class/net/%s/tx_queue_len", ifname);
            FILE *f = fopen(path, "r");
            long q = 0;
            if (f) { if (fscanf(f, "%ld", &q) != 1) q = 0; fclose(f); }
            max_backlog = q > 2 ? q / 2 : 500;
        }
        if (max_backlog < batch) batch = (int)max_backlog;
    }
    int stalled = 0;

    static uint8_t frames[BATCH][MAX_FRAME];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int k = 0; k < BATCH; k++) {
        iov[k].iov_base = frames[k];
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        msgs[k].msg_hdr.msg_name = &ll;
        msgs[k].msg_hdr.msg_namelen = sizeof ll;
    }

    uint64_t sent = 0, bytes = 0, enobufs = 0;
    int cur = smin ? smin : size;
    uint64_t seq = start_seq;
    double t0 = now_s();
    uint64_t t0ns = now_ns();
    double period_ns = rate > 0 ? 1e9 / rate : 0;
    while (!g_stop && (count == 0 || sent < count)) {
        if (duration > 0 && now_s() - t0 >= duration) break;
        int n = batch;
        if (count && (uint64_t)n > count - sent) n = (int)(count - sent);
        int sizes[BATCH];
        for (int k = 0; k < n; k++) {
            sizes[k] = cur;
            build_frame(&g, frames[k], cur, seq + (uint64_t)k);
            iov[k].iov_len = (size_t)cur;
            if (smin) { cur += sstep; if (cur > smax) cur = smin; }
        }
        if (period_ns > 0) {
            /* pace: frame number `sent` is due at t0 + sent*period */
            uint64_t due = t0ns + (uint64_t)(sent * period_ns);
            for (;;) {
                uint64_t t = now_ns();
                if (t >= due || g_stop) break;
                if (due - t > 200000) {
                    struct timespec ts = {0, (long)(due - t - 100000)};
                    nanosleep(&ts, NULL);
                }
            }
        }
        if (lossless) {
            /* wait until QEMU has read enough: backlog = sent - read - dropped */
            double t_wait = now_s();
            long last_tx = -1;
            for (;;) {
                long tx = pread_stat(txfd), dr = pread_stat(dropfd);
                long backlog = (long)sent - (tx - tx0) - (dr - drop0);
                if (backlog + n <= max_backlog || g_stop) break;
                if (tx != last_tx) { last_tx = tx; t_wait = now_s(); }
                else if (now_s() - t_wait > stall) { stalled = 1; break; }
                usleep(20);
            }
            if (stalled) break;
        }
        int done = 0;
        while (done < n && !g_stop) {
            int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN) { enobufs++; usleep(50); continue; }
                if (errno == EINTR) continue;
                die("sendmmsg: %s", strerror(errno));
            }
            for (int k = done; k < done + r; k++) bytes += (uint64_t)sizes[k];
            done += r;
        }
        sent += (uint64_t)done;
        seq += (uint64_t)done;
        if (done < n) { /* interrupted: the unsent frames' sizes were consumed; fine */ break; }
    }
    double secs = now_s() - t0;
    usleep(100000); /* let the tap's counters settle */
    long tx1 = read_stat(ifname, "tx_packets"), drop1 = read_stat(ifname, "tx_dropped");
    printf("framegen: sent=%llu bytes=%llu secs=%.3f pps=%.0f mbps=%.1f run=%u first_seq=%llu",
           (unsigned long long)sent, (unsigned long long)bytes, secs, secs > 0 ? sent / secs : 0.0,
           secs > 0 ? bytes * 8 / secs / 1e6 : 0.0, g.run_id, (unsigned long long)start_seq);
    if (tx0 >= 0 && tx1 >= 0) printf(" tap_tx=+%ld tap_tx_dropped=+%ld", tx1 - tx0, drop1 - drop0);
    if (enobufs) printf(" enobufs_retries=%llu", (unsigned long long)enobufs);
    if (lossless) printf(" lossless_backlog=%ld", max_backlog);
    if (stalled) printf(" stalled=1");
    printf("\n");
    return stalled ? 1 : 0;
}
