/* Config from the environment: test-plans defaults and names, the
 * unified-testing names when TEST_KEY is set, and one-line errors that name
 * what is supported. */
#include "testutil.h"

#include "lp2p/config.h"

#include <string.h>

/* src/transport.h (internal): the transport table. */
const struct lp2p__transport *lp2p__transport_find(const char *name);

static const char *const *fake_env;

static const char *fake_getenv(const char *name) {
  for (const char *const *e = fake_env; *e; e += 2)
    if (strcmp(e[0], name) == 0) return e[1];
  return NULL;
}

static int load(const char *const *env, lp2p_config *cfg, char *err) {
  fake_env = env;
  return lp2p_config_load(cfg, fake_getenv, err, 256);
}

static void test_legacy_defaults(void **state) {
  (void)state;
  const char *env[] = {"transport", "tcp",       "security", "noise", "muxer",
                       "yamux",     "is_dialer", "true",     NULL};
  lp2p_config cfg;
  char err[256];
  assert_int_equal(load(env, &cfg, err), 0);
  assert_int_equal(cfg.mode, LP2P_MODE_LEGACY);
  assert_true(cfg.is_dialer);
  assert_string_equal(cfg.ip, "0.0.0.0");
  assert_string_equal(cfg.redis_host, "redis");
  assert_int_equal(cfg.redis_port, 6379);
  assert_int_equal(cfg.timeout_s, 180);
  assert_string_equal(cfg.redis_key, "listenerAddr");
  assert_string_equal(cfg.muxer->protocol, "/yamux/1.0.0");
  assert_string_equal(cfg.security->protocol, "/noise");
  assert_int_equal(cfg.key_type, LP2P_KEY_ED25519);
}

static void test_unified_names(void **state) {
  (void)state;
  const char *env[] = {
      "TEST_KEY",    "a1b2c3d4", "TRANSPORT",  "tcp",        "SECURE_CHANNEL",
      "noise",       "MUXER",    "mplex",      "IS_DIALER",  "false",
      "LISTENER_IP", "10.0.0.2", "REDIS_ADDR", "[::1]:7000", "TEST_TIMEOUT_SECS",
      "30",          "DEBUG",    "true",       "KEY_TYPE",   "secp256k1",
      NULL};
  lp2p_config cfg;
  char err[256];
  assert_int_equal(load(env, &cfg, err), 0);
  assert_int_equal(cfg.mode, LP2P_MODE_UNIFIED);
  assert_false(cfg.is_dialer);
  assert_string_equal(cfg.ip, "10.0.0.2");
  assert_string_equal(cfg.redis_host, "::1");
  assert_int_equal(cfg.redis_port, 7000);
  assert_int_equal(cfg.timeout_s, 30);
  assert_true(cfg.debug);
  assert_int_equal(cfg.key_type, LP2P_KEY_SECP256K1);
  assert_string_equal(cfg.redis_key, "a1b2c3d4_listener_multiaddr");
  assert_string_equal(cfg.muxer->protocol, "/mplex/6.7.0");
}

static void expect_error(const char *const *env, const char *needle) {
  lp2p_config cfg;
  char err[256] = "";
  assert_int_equal(load(env, &cfg, err), LP2P_EINVAL);
  assert_non_null(strstr(err, needle));
  assert_null(strchr(err, '\n'));
}

static void test_transports(void **state) {
  (void)state;
  const char *names[] = {"tcp", "ws", "wss"};
  for (int i = 0; i < 3; i++) {
    const char *env[] = {"transport", names[i],    "security", "noise", "muxer",
                         "yamux",     "is_dialer", "true",     NULL};
    lp2p_config cfg;
    char err[256];
    assert_int_equal(load(env, &cfg, err), 0);
    assert_non_null(cfg.transport);
  }
}

static void test_errors_name_what_is_supported(void **state) {
  (void)state;
  const char *udp[] = {"transport", "udp", "is_dialer", "true", NULL};
  expect_error(udp, "supported: tcp, ws, wss, quic-v1");
  const char *sec[] = {"transport", "tcp",       "security", "secio", "muxer",
                       "yamux",     "is_dialer", "true",     NULL};
  expect_error(sec, "supported: noise, tls, plaintext");
  const char *mux[] = {"transport", "tcp",       "security", "noise", "muxer",
                       "quic",      "is_dialer", "true",     NULL};
  expect_error(mux, "supported: yamux, mplex");
  const char *role[] = {"transport", "tcp",       "security", "noise", "muxer",
                        "yamux",     "is_dialer", "maybe",    NULL};
  expect_error(role, "true or false");
  const char *redis[] = {"transport",  "tcp",        "security",  "noise",
                         "muxer",      "yamux",      "is_dialer", "true",
                         "redis_addr", "nohostport", NULL};
  expect_error(redis, "host:port");
  const char *to[] = {"transport", "tcp",   "security",
                      "noise",     "muxer", "yamux",
                      "is_dialer", "true",  "test_timeout_seconds",
                      "-1",        NULL};
  expect_error(to, "seconds");
  const char *none[] = {NULL};
  expect_error(none, "transport is required");
}

/* quic-v1 brings its own TLS and streams: neither security nor muxer is
 * required or read, in both conventions. */
static void test_quic_needs_no_stack(void **state) {
  (void)state;
  lp2p_config cfg;
  char err[256] = "";
  const char *legacy[] = {"transport", "quic-v1", "is_dialer", "true", NULL};
  assert_int_equal(load(legacy, &cfg, err), 0);
  assert_ptr_equal(cfg.transport, lp2p__transport_find("quic-v1"));
  assert_null(cfg.security);
  assert_null(cfg.muxer);
  const char *unified[] = {"TRANSPORT",      "quic-v1",  "IS_DIALER",
                           "false",          "TEST_KEY", "a1b2",
                           "SECURE_CHANNEL", "noise",    NULL};
  assert_int_equal(load(unified, &cfg, err), 0);
  assert_ptr_equal(cfg.transport, lp2p__transport_find("quic-v1"));
  assert_null(cfg.security);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quic_needs_no_stack),
      cmocka_unit_test(test_legacy_defaults),
      cmocka_unit_test(test_unified_names),
      cmocka_unit_test(test_transports),
      cmocka_unit_test(test_errors_name_what_is_supported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
