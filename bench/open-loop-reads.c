/*
 * The serve benchmark's fixed-rate read load, run as a second process: GETs of one vector for random customers,
 * sent on an open-loop schedule, request i due at start + i / rate, over kept-alive connections. Compiled by the
 * serve suite on first use (bench/native.ts).
 *
 * Why not autocannon: its rate mode gives each connection a quota per second and sends that quota as fast as the
 * server answers, then idles until the next one-second tick. "10k requests/s" then means a saturated server for
 * part of every second, and the tail it reports is a queue of bursts, not the latency at that rate. This generator
 * spreads the requests evenly, as wrk2 does (not packaged for Debian), and times each response from the moment its
 * request was due, so that a request held back because every connection was busy, or because the generator itself
 * fell behind, counts its wait (no coordinated omission).
 *
 * Why C: the generator's own delays are counted as the server's latency. Written for node, it could only sleep
 * with its event loop blocked (node's timers step in milliseconds, this schedule in 100 µs), so a response that
 * came during a sleep waited for its end (the median read measured 0.100 ms, the interval), and its event loop,
 * garbage and 50–60 µs of CPU per request added their own stalls. Here one ppoll() waits for the next due time
 * and for the responses at once. Against the same bare route, alternating, the node generator measured a p99 of
 * 2.1–18 ms where this one measured 0.55–1.05 ms; given a server that stops for 3 ms every 100 ms, they measured
 * 3.05–3.08 and 2.55–2.60 ms (docs/serving.md).
 *
 *   open-loop-reads <port> <serverPid> <requestsPerSecond> <warmUpSeconds> <seconds> <connections> <customers> <at|-> <seed>
 *
 * Prints one JSON line, of the timed requests: requests, seconds, statuses, p50/p99/p999/max in ms from the due
 * time (`fromDue`) and from the moment the request was written (`fromSend`), and the server process's CPU time per
 * request over the same span, all its threads and the kernel's work for it (from /proc; null where there is none),
 * the generator's own CPU time per request, and how many of its waits a second ended over 1 ms late (the machine's
 * own stalls). With OPEN_LOOP_TRACE=<file>, also writes every timed request's latency from its due time, in
 * order, and the epoch time at which the first was due, to that file (JSON).
 *
 * Customers are drawn as the serve suite draws them, with src/demo/random.ts's seededRandom (mulberry32):
 * floor(customers * random()^1.5).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define USAGE                                                                                                   \
  "open-loop-reads <port> <serverPid> <requestsPerSecond> <warmUpSeconds> <seconds> <connections> <customers> " \
  "<at|-> <seed>"
/** How long without any response before the generator gives up on the server. */
#define NO_RESPONSE_MS 30000
/** Room for one response: the serve suite's answers are ~500 bytes. */
#define RESPONSE_MAX 65536

static void fail(const char *message) {
  fprintf(stderr, "open-loop-reads: %s\n", message);
  exit(1);
}

/**
 * mulberry32, as src/demo/random.ts: the same numbers as the node benchmarks draw for the same seed (a customer
 * drawn from one through pow() may differ where pow and V8's ** differ in the last bit).
 */
static uint32_t random_state;
static double next_random(void) {
  random_state += 0x6d2b79f5u;
  uint32_t t = random_state;
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/** One kept-alive connection with at most one request in flight (no pipelining: a request waits for a free one). */
struct connection {
  int fd;
  int busy;
  long index;
  double due;
  double sent;
  /** Bytes of the response read so far, until its head and body are complete. */
  long length;
  char bytes[RESPONSE_MAX];
};

static struct connection *pool;
static int connection_count;
static double interval_ms, start_ms, timed_from_ms;
static long warm_up, total, next_to_send, completed, timed;
/** Every request's bytes, back to back: request i is [request_starts[i], request_starts[i + 1]). */
static char *request_bytes;
static long *request_starts;
static double *from_due, *from_send;
static long statuses[1000];
static int server_pid;
static double server_cpu_from;
static struct rusage own_cpu_from;

/** The server's CPU seconds so far (user + system, every thread), or NAN without /proc. */
static double server_cpu_seconds(void) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", server_pid);
  FILE *file = fopen(path, "r");
  if (!file) return NAN;
  size_t n = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[n] = 0;
  char *fields = strrchr(text, ')');
  if (!fields) return NAN;
  unsigned long long user = 0, system = 0;
  /* After the command's closing parenthesis: state is field 0, utime field 11, stime field 12. */
  if (sscanf(fields + 2, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &user, &system) != 2)
    return NAN;
  return (double)(user + system) / sysconf(_SC_CLK_TCK);
}

/** Sends every request that is due on the free connections. */
static void dispatch(double now) {
  for (int c = 0; c < connection_count; c++) {
    if (next_to_send >= total) return;
    double due = start_ms + next_to_send * interval_ms;
    if (due > now) return;
    struct connection *connection = &pool[c];
    if (connection->busy) continue;
    connection->busy = 1;
    if (next_to_send == warm_up) {
      timed_from_ms = now;
      server_cpu_from = server_cpu_seconds();
      getrusage(RUSAGE_SELF, &own_cpu_from);
    }
    connection->index = next_to_send;
    connection->due = due;
    connection->sent = now;
    long length = request_starts[next_to_send + 1] - request_starts[next_to_send];
    if (write(connection->fd, request_bytes + request_starts[next_to_send], length) != length)
      fail("a request was not written whole (the server is not reading?)");
    next_to_send++;
  }
}

/** The total length (head and body) of the response at the start of `bytes`, or -1 while its head is incomplete. */
static long response_length(const char *bytes, long length) {
  const char *head_end = memmem(bytes, length, "\r\n\r\n", 4);
  if (!head_end) return -1;
  for (const char *line = memmem(bytes, head_end - bytes, "\r\n", 2); line && line < head_end;
       line = memmem(line + 2, head_end - line, "\r\n", 2)) {
    const char *at = line + 2;
    if (strncasecmp(at, "content-length:", 15) != 0) continue;
    at += 15;
    while (*at == ' ') at++;
    long body = 0;
    while (*at >= '0' && *at <= '9') body = body * 10 + (*at++ - '0');
    return (head_end - bytes) + 4 + body;
  }
  fail("a response without content-length");
  return -1;
}

/** Reads what the connection has; when its response is complete, records it and frees the connection. */
static void receive(struct connection *connection) {
  ssize_t n = read(connection->fd, connection->bytes + connection->length, RESPONSE_MAX - connection->length);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) fail(completed < total ? "the server closed a connection before the load was sent" : "read failed");
  connection->length += n;
  long length = response_length(connection->bytes, connection->length);
  if (length < 0 || connection->length < length) {
    if (connection->length == RESPONSE_MAX) fail("a response longer than 64 KB");
    return;
  }
  if (connection->length > length) fail("bytes after a response: no pipelining here");
  double now = clock_ms(CLOCK_MONOTONIC);
  completed++;
  if (connection->index >= warm_up) {
    from_due[connection->index - warm_up] = now - connection->due;
    from_send[connection->index - warm_up] = now - connection->sent;
    timed++;
    const char *digits = connection->bytes + 9; /* "HTTP/1.1 200 …" */
    int status = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
    if (status < 100 || status > 999) fail("a response without a status code");
    statuses[status]++;
  }
  connection->length = 0;
  connection->busy = 0;
  dispatch(now);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/** By nearest rank, as bench/percentile.ts: the value below which a share p of them lie. */
static double percentile_of_sorted(const double *sorted, long n, double p) {
  if (n == 0) return 0;
  long i = (long)floor(p * n);
  return sorted[i < n - 1 ? i : n - 1];
}

static void print_summary(const char *name, const double *samples, long n) {
  double *sorted = malloc((n ? n : 1) * sizeof *sorted);
  memcpy(sorted, samples, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_value);
  printf("\"%s\":{\"p50\":%.6f,\"p99\":%.6f,\"p999\":%.6f,\"max\":%.6f}", name, percentile_of_sorted(sorted, n, 0.5),
         percentile_of_sorted(sorted, n, 0.99), percentile_of_sorted(sorted, n, 0.999), n ? sorted[n - 1] : 0);
  free(sorted);
}

static int non_negative(const char *text) {
  char *end;
  double value = strtod(text, &end);
  return end != text && *end == 0 && value >= 0;
}

static double cpu_us(const struct rusage *from, const struct rusage *to) {
  return (to->ru_utime.tv_sec - from->ru_utime.tv_sec + to->ru_stime.tv_sec - from->ru_stime.tv_sec) * 1e6 +
         (to->ru_utime.tv_usec - from->ru_utime.tv_usec + to->ru_stime.tv_usec - from->ru_stime.tv_usec);
}

int main(int argc, char **argv) {
  if (argc != 10) fail("usage: " USAGE);
  for (int a = 1; a <= 7; a++)
    if (!non_negative(argv[a])) fail("usage: " USAGE);
  int port = atoi(argv[1]);
  server_pid = atoi(argv[2]);
  double rate = atof(argv[3]);
  interval_ms = 1000.0 / rate;
  /* The first requests warm both ends up (code, connections, caches) on the same schedule; they are not timed. */
  warm_up = lround(rate * atof(argv[4]));
  total = warm_up + lround(rate * atof(argv[5]));
  connection_count = atoi(argv[6]);
  double customers = atof(argv[7]);
  const char *at = argv[8];
  random_state = (uint32_t)strtoul(argv[9], NULL, 10);
  if (connection_count < 1 || total < 1) fail("at least one connection and one request");
  /* Wake-ups on time: the kernel's default timer slack is 50 µs, half of this schedule's interval. */
  prctl(PR_SET_TIMERSLACK, 1UL);

  char query[64] = "";
  if (strlen(at) > 40) fail("<at> is epoch ms (or -)");
  if (strcmp(at, "-") != 0) snprintf(query, sizeof query, "?at=%s", at);
  request_starts = calloc(total + 1, sizeof *request_starts);
  request_bytes = malloc(total * (96 + strlen(query)));
  if (!request_starts || !request_bytes) fail("out of memory");
  for (long i = 0; i < total; i++) {
    long customer = (long)floor(customers * pow(next_random(), 1.5));
    int n = sprintf(request_bytes + request_starts[i],
                    "GET /v1/views/fraud20/c%ld%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", customer, query);
    request_starts[i + 1] = request_starts[i] + n;
  }
  from_due = calloc(total, sizeof *from_due);
  from_send = calloc(total, sizeof *from_send);
  pool = calloc(connection_count, sizeof *pool);
  struct pollfd *polled = calloc(connection_count, sizeof *polled);
  if (!from_due || !from_send || !pool || !polled) fail("out of memory");
  for (int c = 0; c < connection_count; c++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
      char message[128];
      snprintf(message, sizeof message, "connection to the server failed: %s", strerror(errno));
      fail(message);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    pool[c].fd = fd;
    polled[c].fd = fd;
    polled[c].events = POLLIN;
  }

  /*
   * Until every response is in: send what is due, then wait in one ppoll() for the next due time (when a
   * connection is free to send it) and for responses. A response is seen as soon as it arrives.
   */
  long late_wake_ups = 0;
  long completed_before = 0;
  double progress_ms = clock_ms(CLOCK_MONOTONIC);
  start_ms = progress_ms;
  double first_due_epoch_ms = clock_ms(CLOCK_REALTIME) + warm_up * interval_ms;
  for (;;) {
    double now = clock_ms(CLOCK_MONOTONIC);
    dispatch(now);
    if (completed >= total) break;
    int free_connection = 0, busy_connection = 0;
    for (int c = 0; c < connection_count; c++) {
      free_connection |= !pool[c].busy;
      busy_connection |= pool[c].busy;
    }
    /* Progress: a response came, or none is awaited (a slow schedule). */
    if (completed != completed_before || !busy_connection) {
      completed_before = completed;
      progress_ms = now;
    } else if (now - progress_ms > NO_RESPONSE_MS) {
      fail("no response for 30 s: is the server stuck?");
    }
    /* With every connection busy, wait for a response (checking for progress once a second). */
    double wait_ms = 1000;
    int scheduled = free_connection && next_to_send < total;
    if (scheduled) wait_ms = fmax(0, start_ms + next_to_send * interval_ms - now);
    struct timespec timeout = {.tv_sec = (time_t)(wait_ms / 1000)};
    timeout.tv_nsec = (long)((wait_ms - timeout.tv_sec * 1000.0) * 1e6);
    int ready = ppoll(polled, connection_count, &timeout, NULL);
    if (ready < 0 && errno != EINTR) fail("ppoll failed");
    /* The machine's own stalls, seen from here: waits (over the timed requests) that ended over 1 ms late. */
    if (ready == 0 && scheduled && next_to_send > warm_up && clock_ms(CLOCK_MONOTONIC) - now - wait_ms > 1)
      late_wake_ups++;
    for (int c = 0; ready > 0 && c < connection_count; c++)
      if (polled[c].revents) receive(&pool[c]);
  }
  double elapsed = (clock_ms(CLOCK_MONOTONIC) - timed_from_ms) / 1000;
  double server_cpu = server_cpu_seconds() - server_cpu_from;
  struct rusage own_cpu;
  getrusage(RUSAGE_SELF, &own_cpu);
  for (int c = 0; c < connection_count; c++) close(pool[c].fd);

  const char *trace = getenv("OPEN_LOOP_TRACE");
  if (trace && *trace) {
    FILE *file = fopen(trace, "w");
    if (!file) fail("cannot write OPEN_LOOP_TRACE");
    fprintf(file, "{\"intervalMs\":%.6f,\"firstDueEpochMs\":%.3f,\"fromDueMs\":[", interval_ms, first_due_epoch_ms);
    for (long i = 0; i < timed; i++) fprintf(file, "%s%.4f", i ? "," : "", from_due[i]);
    fprintf(file, "]}\n");
    fclose(file);
  }

  printf("{\"requests\":%ld,\"seconds\":%.6f,\"statuses\":{", timed, elapsed);
  for (int s = 0, first = 1; s < 1000; s++)
    if (statuses[s]) printf("%s\"%d\":%ld", first ? "" : ",", s, statuses[s]), first = 0;
  printf("},");
  print_summary("fromDue", from_due, timed);
  printf(",");
  print_summary("fromSend", from_send, timed);
  if (isnan(server_cpu))
    printf(",\"serverCpuUsPerRequest\":null");
  else
    printf(",\"serverCpuUsPerRequest\":%.3f", server_cpu * 1e6 / timed);
  printf(",\"generatorCpuUsPerRequest\":%.3f,\"lateWakeUpsPerSecond\":%.3f}\n", cpu_us(&own_cpu_from, &own_cpu) / timed,
         late_wake_ups / elapsed);
  return 0;
}
