/* The transport table (src/transport.h): names the config picks, and the
 * forms of listener address each transport's dialer accepts (ws: /ws
 * right after the tcp port; wss: /wss, /tls/ws, /tls/sni/<host>/ws;
 * quic-v1: /quic-v1 right after the udp port) with
 * ip4, ip6, dns4 and dns6 hosts; which stacks need the GnuTLS module. */
#include "testutil.h"

#include "../../src/transport.h"
#include "lp2p/upgrade.h"

#include <string.h>

#define ID "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"

typedef struct plan_case {
  const char *transport, *addr;
  int ok;
  const char *host; /* what the layers get: the SNI host, else the address host */
} plan_case;

static void test_plans(void **state) {
  (void)state;
  static const plan_case cases[] = {
      {"tcp", "/ip4/127.0.0.1/tcp/4001/p2p/" ID, 1, "127.0.0.1"},
      {"tcp", "/ip4/127.0.0.1/tcp/4001/ws", 0, NULL},
      {"ws", "/ip4/127.0.0.1/tcp/4001/ws/p2p/" ID, 1, "127.0.0.1"},
      {"ws", "/ip6/::1/tcp/4001/ws", 1, "::1"},
      {"ws", "/dns4/example.com/tcp/80/ws", 1, "example.com"},
      {"ws", "/dns6/example.com/tcp/80/ws", 1, "example.com"},
      {"ws", "/ip4/127.0.0.1/tcp/4001", 0, NULL},
      {"ws", "/ip4/127.0.0.1/tcp/4001/wss", 0, NULL},
      {"ws", "/ip4/127.0.0.1/tcp/4001/ws/ws", 0, NULL},
      {"wss", "/ip4/127.0.0.1/tcp/443/wss/p2p/" ID, 1, "127.0.0.1"},
      {"wss", "/ip4/127.0.0.1/tcp/443/tls/ws/p2p/" ID, 1, "127.0.0.1"},
      {"wss", "/ip6/::1/tcp/443/tls/ws", 1, "::1"},
      {"wss", "/dns4/example.com/tcp/443/tls/sni/example.org/ws", 1, "example.org"},
      {"wss", "/ip4/127.0.0.1/tcp/443/ws", 0, NULL},
      {"wss", "/ip4/127.0.0.1/tcp/443/tls", 0, NULL},
      {"wss", "/ip4/127.0.0.1/tcp/443/tls/sni/example.org", 0, NULL},
      {"wss", "/ip4/127.0.0.1/tcp/443/ws/tls", 0, NULL},
      {"wss", "/ip4/127.0.0.1/udp/443/quic-v1", 0, NULL},
      {"quic-v1", "/ip4/127.0.0.1/udp/443/quic-v1/p2p/" ID, 1, "127.0.0.1"},
      {"quic-v1", "/ip6/::1/udp/443/quic-v1", 1, "::1"},
      {"quic-v1", "/dns4/example.com/udp/443/quic-v1", 1, "example.com"},
      {"quic-v1", "/ip4/127.0.0.1/tcp/443/quic-v1", 0, NULL},
      {"quic-v1", "/ip4/127.0.0.1/udp/443/quic", 0, NULL},
      {"quic-v1", "/ip4/127.0.0.1/udp/443", 0, NULL},
      {"quic-v1", "/ip4/127.0.0.1/udp/443/quic-v1/ws", 0, NULL},
      {"tcp", "/ip4/127.0.0.1/udp/443/quic-v1", 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const lp2p__transport *t = lp2p__transport_find(cases[i].transport);
    assert_non_null(t);
    lp2p__dial_plan plan;
    int rc = lp2p__transport_plan(t, cases[i].addr, &plan);
    if ((rc == 0) != cases[i].ok)
      fail_msg("%s %s: rc %d", cases[i].transport, cases[i].addr, rc);
    if (!cases[i].ok) continue;
    assert_string_equal(plan.params.host, cases[i].host);
    assert_int_equal(plan.params.port, plan.target.port);
    if (!strncmp(cases[i].addr, "/dns", 4))
      assert_int_equal(plan.target.dns_family, cases[i].addr[4] - '0');
  }
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(lp2p__transport_names(), "tcp, ws, wss, quic-v1");
  assert_true(lp2p__transport_find("quic-v1")->udp);
  /* quic-v1 runs the GnuTLS module's driver; wss its TLS layer; ws its
   * SHA-1; tcp with noise or plaintext never needs the module. */
  const lp2p_security_ops *noise = lp2p_security_find("noise"),
                          *tls = lp2p_security_find("tls"),
                          *plain = lp2p_security_find("plaintext");
  assert_true(lp2p__transport_needs_gnutls(lp2p__transport_find("quic-v1"), NULL));
  assert_true(lp2p__transport_needs_gnutls(lp2p__transport_find("wss"), noise));
  assert_true(lp2p__transport_needs_gnutls(lp2p__transport_find("tcp"), tls));
  assert_true(lp2p__transport_needs_gnutls(lp2p__transport_find("ws"), tls));
  assert_false(lp2p__transport_needs_gnutls(lp2p__transport_find("tcp"), noise));
  assert_false(lp2p__transport_needs_gnutls(lp2p__transport_find("tcp"), plain));
  assert_true(lp2p__transport_needs_gnutls(lp2p__transport_find("ws"), plain));
  assert_int_equal(lp2p__transport_find("ws")->n_layers, 1);
  assert_string_equal(lp2p__transport_find("wss")->suffix, "/tls/ws");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plans),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
