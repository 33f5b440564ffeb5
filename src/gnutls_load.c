/* The core's side of the GnuTLS module (gnutls_module.h): the one loader
 * and the forwarding ops the core's tables hold. */
#include "gnutls_module.h"
#include "lp2p_build_id.h"
#include "sha1.h"

#include "lp2p/tls.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* The module is the running binary's own path plus this suffix
 * (build/lp2p-interop-gnutls.so, /usr/local/bin/lp2p-interop-gnutls.so in
 * the image): CMake names it so, and scripts/make-rootfs.sh installs it so.
 * One rule, no search path: the binary only ever loads its own build's
 * module. */
#define MODULE_SUFFIX "-gnutls.so"
/* Tests: another file (a missing one, to see the error). */
#define MODULE_ENV "LP2P_GNUTLS_MODULE"
#define MODULE_SYMBOL "lp2p_gnutls_module"

/* Defined when the module's objects are linked in (lp2p_core: unit tests,
 * fuzz targets, benchmarks): then nothing is opened. The binary does not
 * link them, so there it is NULL. */
extern const lp2p__gnutls_ops lp2p_gnutls_module __attribute__((weak));

/* why: every failure starts "cannot load the GnuTLS module", the words
 * scripts/build-release.sh and scripts/make-rootfs.sh look for. */
static struct {
  int state; /* 0 not tried, 1 loaded, -1 failed */
  const lp2p__gnutls_ops *ops;
  char why[PATH_MAX + 256];
} mod;

static int module_path(char *out, size_t cap) {
  const char *env = getenv(MODULE_ENV);
  if (env && *env) {
    if (strlen(env) >= cap) return -1;
    strcpy(out, env);
    return 0;
  }
  size_t room = cap - sizeof MODULE_SUFFIX;
  ssize_t n = readlink("/proc/self/exe", out, room);
  if (n <= 0 || (size_t)n >= room) {
    /* No /proc (a bare chroot, as scripts/make-rootfs.sh checks the root
     * in): the path the binary was executed by, from the kernel. */
    const char *fn = (const char *)getauxval(AT_EXECFN);
    if (!fn || !*fn || strlen(fn) >= room) return -1;
    n = (ssize_t)strlen(fn);
    memcpy(out, fn, (size_t)n);
  }
  memcpy(out + n, MODULE_SUFFIX, sizeof MODULE_SUFFIX);
  return 0;
}

static const lp2p__gnutls_ops *load(void) {
  char path[PATH_MAX];
  if (module_path(path, sizeof path)) {
    snprintf(mod.why, sizeof mod.why,
             "cannot load the GnuTLS module: no path for it (neither /proc/self/exe "
             "nor AT_EXECFN, or over PATH_MAX)");
    return NULL;
  }
  /* RTLD_NOW: a symbol the binary does not export fails here, at start,
   * not in the middle of a handshake. RTLD_LOCAL: GnuTLS's names stay out
   * of the global scope. Never closed: its code runs until exit. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(mod.why, sizeof mod.why, "cannot load the GnuTLS module: %s", dlerror());
    return NULL;
  }
  const lp2p__gnutls_ops *ops = dlsym(h, MODULE_SYMBOL);
  if (!ops || ops->abi != LP2P__GNUTLS_ABI || ops->size != sizeof *ops ||
      strcmp(ops->build_id, LP2P__BUILD_ID) != 0) {
    snprintf(mod.why, sizeof mod.why, "cannot load the GnuTLS module: %s: %s", path,
             ops ? "from another build" : "no " MODULE_SYMBOL);
    dlclose(h);
    return NULL;
  }
  LP2P_INFO("gnutls", "module %s loaded", path);
  return ops;
}

const lp2p__gnutls_ops *lp2p__gnutls(void) {
  if (mod.state == 0) {
    mod.ops = &lp2p_gnutls_module ? &lp2p_gnutls_module : load();
    mod.state = mod.ops ? 1 : -1;
  }
  return mod.ops;
}

const char *lp2p__gnutls_error(void) {
  return mod.why[0] ? mod.why : "the GnuTLS module is not loaded";
}

/* ---- /tls/1.0.0 as the security table holds it ----
 * Only create and shared_new can meet an unloaded module; the rest run on
 * what those made. */

static void *sec_shared_new(lp2p_env *env, const lp2p_security_params *p) {
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  return m ? m->tls->shared_new(env, p) : NULL;
}
static void sec_shared_free(void *shared) {
  if (shared) mod.ops->tls->shared_free(shared);
}
static void *sec_create(lp2p_env *env, const lp2p_security_params *p, lp2p_io io) {
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  return m ? m->tls->create(env, p, io) : NULL;
}
static int sec_start(void *s) { return mod.ops->tls->start(s); }
static int sec_recv(void *s, const uint8_t *in, size_t len) {
  return mod.ops->tls->recv(s, in, len);
}
static int sec_send(void *s, const uint8_t *p, size_t len) {
  return mod.ops->tls->send(s, p, len);
}
static int sec_sendv(void *s, const lp2p_iovec *v, size_t n) {
  return mod.ops->tls->sendv(s, v, n);
}
static void sec_destroy(void *s) {
  if (s) mod.ops->tls->destroy(s);
}

/* name and protocol are the table's own: config resolves "tls" without
 * loading anything. */
const lp2p_security_ops lp2p__tls_security = {.name = "tls",
                                              .protocol = LP2P_TLS_PROTOCOL,
                                              .shared_new = sec_shared_new,
                                              .shared_free = sec_shared_free,
                                              .create = sec_create,
                                              .start = sec_start,
                                              .recv = sec_recv,
                                              .send = sec_send,
                                              .destroy = sec_destroy,
                                              .sendv = sec_sendv};

/* ---- the TLS byte layer of wss ---- */

static void *lay_create(lp2p_env *env, int initiator, const lp2p_layer_params *p,
                        lp2p_io io) {
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  return m ? m->tls_layer->create(env, initiator, p, io) : NULL;
}
static int lay_start(void *l) { return mod.ops->tls_layer->start(l); }
static int lay_recv(void *l, const uint8_t *in, size_t len) {
  return mod.ops->tls_layer->recv(l, in, len);
}
static int lay_send(void *l, const uint8_t *p, size_t len) {
  return mod.ops->tls_layer->send(l, p, len);
}
static int lay_close(void *l) { return mod.ops->tls_layer->close(l); }
static uint64_t lay_deadline(const void *l) { return mod.ops->tls_layer->deadline(l); }
static int lay_expire(void *l) { return mod.ops->tls_layer->expire(l); }
static void lay_destroy(void *l) {
  if (l) mod.ops->tls_layer->destroy(l);
}

const lp2p_layer_ops lp2p__tls_layer = {.name = "tls",
                                        .create = lay_create,
                                        .start = lay_start,
                                        .recv = lay_recv,
                                        .send = lay_send,
                                        .close = lay_close,
                                        .deadline = lay_deadline,
                                        .expire = lay_expire,
                                        .destroy = lay_destroy};

/* ---- SHA-1 for the WebSocket accept key (sha1.h) ---- */

int lp2p__sha1(uint8_t out[LP2P__SHA1_LEN], const uint8_t *p, size_t len) {
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  return m ? m->sha1(out, p, len) : LP2P_ENOTSUP;
}
