/* ChaCha20-Poly1305 cost per byte, as the transport pays it: seal and open
 * of full Noise transport messages (65519 bytes) through src/aead.c, with
 * libcrypto opened as the perf app opens it. Reported per CPU second of
 * this process (CLOCK_PROCESS_CPUTIME_ID), so other load on a shared
 * machine changes the wall time but hardly the figure: bench/perf-cpu.sh
 * turns it into the ceiling the AEAD puts on throughput.
 *
 *   lp2p-bench-aead [MiB]     (default 1024 MiB each way; 0: libsodium) */
#include "aead.h"

#include "lp2p/noise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 1024;
  int sodium = getenv("LP2P_AEAD_SODIUM") != NULL;
  if (mib <= 0) mib = 1024;
  if (!sodium && !lp2p__aead_enable_bulk()) {
    fprintf(stderr, "libcrypto not available: set LP2P_AEAD_SODIUM=1 for libsodium\n");
    return 1;
  }
  enum { MSG = LP2P_NOISE_PLAINTEXT_MAX };
  static uint8_t pt[MSG], ct[MSG + LP2P_NOISE_TAGLEN], back[MSG];
  uint8_t key[32] = {1}, nonce[12] = {0};
  memset(pt, 7, sizeof pt);
  size_t n = (size_t)mib * 1048576 / MSG;
  double seal = 0, open = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(nonce + 4, &i, sizeof i < 8 ? sizeof i : 8);
    double t0 = cpu_s();
    if (lp2p__aead_seal(ct, key, nonce, NULL, 0, pt, MSG)) return 1;
    double t1 = cpu_s();
    if (lp2p__aead_open(back, key, nonce, NULL, 0, ct, MSG)) return 1;
    open += cpu_s() - t1;
    seal += t1 - t0;
  }
  double bytes = (double)n * MSG;
  printf("aead %s %d-byte messages: seal %.2f GB/s, open %.2f GB/s per CPU second "
         "(seal_ms_per_gib=%.0f open_ms_per_gib=%.0f)\n",
         sodium ? "libsodium" : "openssl", MSG, bytes / seal / 1e9, bytes / open / 1e9,
         seal * 1073741824.0 / bytes * 1e3, open * 1073741824.0 / bytes * 1e3);
  return 0;
}
