/* Native helpers of the event benchmark (tests/bench/events_bench.py),
 * compiled by it into its work directory with `cc -O2`, so that the chain
 * child -> daemon -> listener is bound by the daemon, not by Python.
 *
 *   events_native listener REC [FIFODIR]
 *       An event listener speaking the raw READY / RESULT protocol: it
 *       acknowledges every event at once (`RESULT 2\nOK` and the next
 *       `READY\n` in one write), appends every event (header and payload) to
 *       REC (buffered: written every 32 KiB or 2 ms), and, for events of a
 *       process named `closed...`, writes one byte per line carried to
 *       FIFODIR/NAME.fifo (the credits of that closed-loop child).
 *
 *   events_native child MODE SECONDS OUT [ARGS]
 *       A chatty child writing numbered lines (`N chatty line\n`) on its
 *       stdout, one write per line, then the number it wrote to OUT:
 *         closed SECONDS OUT FIFODIR CREDIT: CREDIT lines, then one more
 *                 line per byte read from FIFODIR/NAME.fifo (NAME from
 *                 SUPERVISOR_PROCESS_NAME), until SECONDS have passed;
 *         open SECONDS OUT: as fast as it can for SECONDS;
 *         paced SECONDS OUT RATE: RATE lines per second for SECONDS.
 *
 *   events_native pingpong SECONDS ENVELOPE_BYTES [split]
 *       The protocol's physical bound: two processes and two pipes, one
 *       writing an envelope-sized message, the other reading it and
 *       answering `RESULT 2\nOKREADY\n`, round trip after round trip, with
 *       blocking reads and writes. Prints round trips per second and the
 *       writer's CPU time per round trip. Left alone, the scheduler runs
 *       both on one CPU (each wake-up a plain context switch); `split` pins
 *       them to two different CPUs (each wake-up crosses CPUs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(111);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        p += w;
        n -= (size_t)w;
    }
}

/* ------------------------------------------------------------ listener */

static char rec_buf[64 * 1024];
static size_t rec_len;

static void rec_flush(int rec) {
    write_all(rec, rec_buf, rec_len);
    rec_len = 0;
}

static void rec_add(int rec, const char *p, size_t n) {
    if (rec_len + n > sizeof rec_buf)
        rec_flush(rec);
    if (n > sizeof rec_buf) {
        write_all(rec, p, n);
        return;
    }
    memcpy(rec_buf + rec_len, p, n);
    rec_len += n;
}

/* The credit FIFO of a closed-loop child, by its name (the text up to the
 * next space), opened at its first event. */
static int credit_fd(const char *dir, const char *name, size_t max) {
    static struct {
        char name[64];
        int fd;
    } open_fifos[64];
    static int n_open;
    size_t len = 0;
    while (len < max && len < 63 && name[len] != ' ')
        len++;
    for (int i = 0; i < n_open; i++)
        if (strlen(open_fifos[i].name) == len && memcmp(open_fifos[i].name, name, len) == 0)
            return open_fifos[i].fd;
    if (n_open == 64)
        die("too many children");
    char path[4096];
    snprintf(path, sizeof path, "%s/%.*s.fifo", dir, (int)len, name);
    if (mkfifo(path, 0600) < 0 && errno != EEXIST)
        die("mkfifo");
    int fd = open(path, O_RDWR);
    if (fd < 0)
        die("open fifo");
    memcpy(open_fifos[n_open].name, name, len);
    open_fifos[n_open].name[len] = 0;
    open_fifos[n_open].fd = fd;
    n_open++;
    return fd;
}

static volatile sig_atomic_t flush_due;

static void on_alarm(int sig) {
    (void)sig;
    flush_due = 1;
}

static int listener(int argc, char **argv) {
    if (argc < 3)
        return 2;
    int rec = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (rec < 0)
        die("open rec");
    const char *fifodir = argc > 3 ? argv[3] : NULL;
    static const char ack[] = "RESULT 2\nOKREADY\n";
    static char credits[65536];
    memset(credits, 'x', sizeof credits);
    size_t cap = 1 << 20, have = 0;
    char *buf = malloc(cap);
    if (!buf)
        die("malloc");
    /* The record is flushed every 2 ms even when no event comes: the
     * timer interrupts a blocked read (no SA_RESTART). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_REAL, &every, NULL);
    write_all(1, "READY\n", 6);
    for (;;) {
        ssize_t n = read(0, buf + have, cap - have);
        if (flush_due || rec_len >= 32 * 1024) {
            flush_due = 0;
            rec_flush(rec);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if (n == 0)
            break;
        have += (size_t)n;
        for (;;) {
            char *nl = memchr(buf, '\n', have);
            if (!nl)
                break;
            size_t hlen = (size_t)(nl - buf) + 1;
            char *l = memmem(buf, hlen, "len:", 4);
            if (!l)
                die("no len: in header");
            /* The chatty lines are ASCII: characters are bytes. */
            size_t plen = strtoul(l + 4, NULL, 10);
            if (have < hlen + plen) {
                if (hlen + plen > cap) {
                    cap = hlen + plen;
                    buf = realloc(buf, cap);
                    if (!buf)
                        die("realloc");
                }
                break;
            }
            write_all(1, ack, sizeof ack - 1);
            rec_add(rec, buf, hlen + plen);
            if (fifodir && plen > 18 && memcmp(nl + 1, "processname:closed", 18) == 0) {
                size_t lines = 0;
                for (char *p = nl + 1; p < nl + 1 + plen; p++)
                    lines += *p == '\n';
                int fd = credit_fd(fifodir, nl + 1 + 12, plen - 12);
                if (lines > 1 && lines - 1 <= sizeof credits)
                    write_all(fd, credits, lines - 1);
            }
            memmove(buf, buf + hlen + plen, have - hlen - plen);
            have -= hlen + plen;
        }
    }
    rec_flush(rec);
    return 0;
}

/* --------------------------------------------------------------- child */

static long write_line(long i) {
    char line[40];
    int n = snprintf(line, sizeof line, "%ld chatty line\n", i);
    write_all(1, line, (size_t)n);
    return i;
}

static int child(int argc, char **argv) {
    if (argc < 5)
        return 2;
    const char *mode = argv[2];
    double seconds = atof(argv[3]);
    double end = mono() + seconds;
    long i = 0;
    if (strcmp(mode, "closed") == 0) {
        if (argc < 7)
            return 2;
        const char *name = getenv("SUPERVISOR_PROCESS_NAME");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.fifo", argv[5], name ? name : "closed");
        if (mkfifo(path, 0600) < 0 && errno != EEXIST)
            die("mkfifo");
        int fifo = open(path, O_RDWR);
        if (fifo < 0)
            die("open fifo");
        long credit = atol(argv[6]);
        static char got[65536];
        for (;;) {
            for (long k = 0; k < credit; k++)
                write_line(++i);
            if (mono() > end)
                break;
            ssize_t n = read(fifo, got, sizeof got);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die("read fifo");
            }
            credit = n;
        }
    } else if (strcmp(mode, "open") == 0) {
        while (mono() < end)
            for (int k = 0; k < 100; k++)
                write_line(++i);
    } else if (strcmp(mode, "paced") == 0) {
        if (argc < 6)
            return 2;
        double rate = atof(argv[5]);
        long total = (long)(seconds * rate);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long step = (long)(1e9 / rate);
        for (long k = 0; k < total; k++) {
            write_line(++i);
            t.tv_nsec += step;
            while (t.tv_nsec >= 1000000000L) {
                t.tv_nsec -= 1000000000L;
                t.tv_sec++;
            }
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
                ;
        }
    } else {
        return 2;
    }
    FILE *f = fopen(argv[4], "w");
    if (!f)
        die("open out");
    fprintf(f, "%ld", i);
    fclose(f);
    return 0;
}

/* ------------------------------------------------------------ pingpong */

static void read_exactly(int fd, char *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            exit(0);
        p += r;
        n -= (size_t)r;
    }
}

static int pingpong(int argc, char **argv) {
    if (argc < 4)
        return 2;
    double seconds = atof(argv[2]);
    size_t size = strtoul(argv[3], NULL, 10);
    static const char ack[] = "RESULT 2\nOKREADY\n";
    const size_t alen = sizeof ack - 1;
    char *msg = malloc(size + 1);
    if (!msg || size < 2)
        die("size");
    memset(msg, 'e', size);
    msg[size - 1] = '\n';
    int to_l[2], from_l[2];
    if (pipe(to_l) < 0 || pipe(from_l) < 0)
        die("pipe");
    int split = argc > 4 && strcmp(argv[4], "split") == 0;
    cpu_set_t allowed;
    int cpus[2], ncpus = 0;
    if (split && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int c = 0; c < CPU_SETSIZE && ncpus < 2; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[ncpus++] = c;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (ncpus == 2) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpus[pid == 0], &one);
        if (sched_setaffinity(0, sizeof one, &one) < 0)
            die("sched_setaffinity");
    }
    if (pid == 0) { /* the listener */
        close(to_l[1]);
        close(from_l[0]);
        char *in = malloc(size);
        if (!in)
            die("malloc");
        for (;;) {
            read_exactly(to_l[0], in, size);
            write_all(from_l[1], ack, alen);
        }
    }
    close(to_l[0]);
    close(from_l[1]);
    char got[64];
    /* Warm-up, then the window. */
    for (int k = 0; k < 1000; k++) {
        write_all(to_l[1], msg, size);
        read_exactly(from_l[0], got, alen);
    }
    long trips = 0;
    double t0 = mono(), t1;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    do {
        for (int k = 0; k < 256; k++) {
            write_all(to_l[1], msg, size);
            read_exactly(from_l[0], got, alen);
        }
        trips += 256;
        t1 = mono();
    } while (t1 - t0 < seconds);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    close(to_l[1]);
    waitpid(pid, NULL, 0);
    double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
    /* round trips per second, and the writer's CPU per round trip */
    printf("%.1f %.9f\n", trips / (t1 - t0), cpu / trips);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL);
    if (argc > 1 && strcmp(argv[1], "listener") == 0)
        return listener(argc, argv);
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child(argc, argv);
    if (argc > 1 && strcmp(argv[1], "pingpong") == 0)
        return pingpong(argc, argv);
    fprintf(stderr, "usage: events_native listener|child|pingpong ...\n");
    return 2;
}
