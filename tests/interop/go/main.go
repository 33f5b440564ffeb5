// Command peer is a go-libp2p interop test peer for lp2p-interop.
//
// It plays the listener or the dialer of one transport-interop ping test and
// behaves like go-libp2p's own harness app (test-plans/cmd/ping in the
// go-libp2p tree): default go-libp2p host (Ed25519 identity, identify and
// ping services on), one transport, one security protocol, yamux, Redis to
// meet the other side.
//
// Two conventions, chosen by the environment:
//   - test-plans (default): lowercase transport, security, muxer, is_dialer,
//     ip, redis_addr, test_timeout_seconds; Redis list "listenerAddr"; the
//     dialer prints one JSON line.
//   - unified-testing (when TEST_KEY is set): TRANSPORT, SECURE_CHANNEL,
//     MUXER, IS_DIALER, LISTENER_IP, REDIS_ADDR, TEST_TIMEOUT_SECS; Redis list
//     "<TEST_KEY>_listener_multiaddr"; the dialer prints a YAML latency block.
//
// Only the result goes to stdout; every diagnostic goes to stderr (log).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-redis/redis/v8"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// settings is everything the harness environment tells the peer.
type settings struct {
	unified   bool
	transport string
	security  string
	muxer     string
	dialer    bool
	ip        string
	redisAddr string
	redisKey  string
	timeout   time.Duration
}

func readSettings() settings {
	var s settings
	testKey := os.Getenv("TEST_KEY")
	var timeoutStr string
	if testKey != "" {
		s.unified = true
		s.transport = os.Getenv("TRANSPORT")
		s.security = os.Getenv("SECURE_CHANNEL")
		s.muxer = os.Getenv("MUXER")
		s.dialer = os.Getenv("IS_DIALER") == "true"
		s.ip = os.Getenv("LISTENER_IP")
		s.redisAddr = os.Getenv("REDIS_ADDR")
		s.redisKey = testKey + "_listener_multiaddr"
		timeoutStr = os.Getenv("TEST_TIMEOUT_SECS")
		if s.redisAddr == "" {
			log.Fatal("REDIS_ADDR is not set")
		}
	} else {
		s.transport = os.Getenv("transport")
		s.security = os.Getenv("security")
		s.muxer = os.Getenv("muxer")
		s.dialer = os.Getenv("is_dialer") == "true"
		s.ip = os.Getenv("ip")
		s.redisAddr = os.Getenv("redis_addr")
		s.redisKey = "listenerAddr"
		timeoutStr = os.Getenv("test_timeout_seconds")
		if s.redisAddr == "" {
			s.redisAddr = "redis:6379"
		}
	}
	// Upstream default: three minutes; an unparsable value keeps it.
	s.timeout = 3 * time.Minute
	if secs, err := strconv.ParseInt(timeoutStr, 10, 32); err == nil && secs > 0 {
		s.timeout = time.Duration(secs) * time.Second
	}
	if s.ip == "" {
		s.ip = "0.0.0.0"
	}
	return s
}

// hostOptions maps the harness names onto go-libp2p options, offering what
// go offers the harness (yamux is go's only muxer; quic-v1 brings its own
// security and muxing, so security and muxer are ignored there).
func hostOptions(s settings) ([]libp2p.Option, error) {
	ipProto := "ip4"
	if strings.Contains(s.ip, ":") {
		ipProto = "ip6"
	}
	var opts []libp2p.Option
	var listen string
	standalone := false
	switch s.transport {
	case "tcp":
		opts = append(opts, libp2p.Transport(tcp.NewTCPTransport))
		listen = fmt.Sprintf("/%s/%s/tcp/0", ipProto, s.ip)
	case "ws":
		opts = append(opts, libp2p.Transport(websocket.New))
		listen = fmt.Sprintf("/%s/%s/tcp/0/ws", ipProto, s.ip)
	case "wss":
		serverConf, err := selfSignedTLSConfig()
		if err != nil {
			return nil, fmt.Errorf("wss certificate: %w", err)
		}
		opts = append(opts, libp2p.Transport(websocket.New,
			websocket.WithTLSConfig(serverConf),
			websocket.WithTLSClientConfig(insecureClientTLSConfig())))
		listen = fmt.Sprintf("/%s/%s/tcp/0/wss", ipProto, s.ip)
	case "quic-v1":
		opts = append(opts, libp2p.Transport(libp2pquic.NewTransport))
		listen = fmt.Sprintf("/%s/%s/udp/0/quic-v1", ipProto, s.ip)
		standalone = true
	default:
		return nil, fmt.Errorf("unsupported transport: %q", s.transport)
	}
	opts = append(opts, libp2p.ListenAddrStrings(listen))
	if standalone {
		return opts, nil
	}
	switch s.security {
	case "noise":
		opts = append(opts, libp2p.Security(noise.ID, noise.New))
	case "tls":
		opts = append(opts, libp2p.Security(libp2ptls.ID, libp2ptls.New))
	default:
		return nil, fmt.Errorf("unsupported secure channel: %q", s.security)
	}
	switch s.muxer {
	case "yamux":
		opts = append(opts, libp2p.Muxer(yamux.ID, yamux.DefaultTransport))
	default:
		return nil, fmt.Errorf("unsupported muxer: %q", s.muxer)
	}
	return opts, nil
}

// waitForRedis pings Redis until it answers: it may start after us.
func waitForRedis(ctx context.Context, rc *redis.Client) {
	for {
		if _, err := rc.Ping(ctx).Result(); err == nil {
			return
		}
		if ctx.Err() != nil {
			log.Fatalf("timeout waiting for redis at %s", rc.Options().Addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func main() {
	log.SetOutput(os.Stderr)
	s := readSettings()

	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()

	rc := redis.NewClient(&redis.Options{Addr: s.redisAddr, DialTimeout: s.timeout})
	defer rc.Close()
	waitForRedis(ctx, rc)

	opts, err := hostOptions(s)
	if err != nil {
		log.Fatal(err)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		log.Fatalf("failed to create the libp2p host: %v", err)
	}
	defer h.Close()
	log.Printf("peer id %s, listening on %v", h.ID(), h.Addrs())
	logIdentify(h)

	if s.dialer {
		runDialer(ctx, s, rc, h)
		return
	}
	runListener(ctx, s, rc, h)
}

func runDialer(ctx context.Context, s settings, rc *redis.Client, h host.Host) {
	val, err := rc.BLPop(ctx, s.timeout, s.redisKey).Result()
	if err != nil {
		fatal(h, "failed to wait for the listener address under %q: %v", s.redisKey, err)
	}
	full, err := ma.NewMultiaddr(val[1])
	if err != nil {
		fatal(h, "bad listener multiaddr %q: %v", val[1], err)
	}
	log.Printf("listener multiaddr: %s", full)
	info, err := peer.AddrInfoFromP2pAddr(full)
	if err != nil {
		fatal(h, "no peer id in listener multiaddr %q: %v", full, err)
	}

	start := time.Now()
	if err := h.Connect(ctx, *info); err != nil {
		fatal(h, "failed to connect to %s: %v", full, err)
	}
	for _, c := range h.Network().ConnsToPeer(info.ID) {
		st := c.ConnState()
		log.Printf("connected: %s, security %q, muxer %q", c.RemoteMultiaddr(), st.Security, st.StreamMultiplexer)
	}
	res := <-ping.Ping(ctx, h, info.ID)
	if res.Error != nil {
		fatal(h, "ping failed: %v", res.Error)
	}
	total := time.Since(start)

	// Same precision as upstream: whole microseconds, as float32 milliseconds.
	hs := float32(total.Microseconds()) / 1000
	rtt := float32(res.RTT.Microseconds()) / 1000
	log.Printf("handshake+1RTT %.3f ms, ping RTT %.3f ms", hs, rtt)
	if s.unified {
		fmt.Printf("latency:\n  handshake_plus_one_rtt: %s\n  ping_rtt: %s\n  unit: ms\n",
			formatMillis(hs), formatMillis(rtt))
	} else {
		out, err := json.Marshal(struct {
			HandshakePlusOneRTTMillis float32 `json:"handshakePlusOneRTTMillis"`
			PingRTTMilllis            float32 `json:"pingRTTMilllis"`
		}{hs, rtt})
		if err != nil {
			fatal(h, "encoding the result: %v", err)
		}
		fmt.Println(string(out))
	}
	os.Stdout.Sync()
}

func formatMillis(v float32) string {
	return strconv.FormatFloat(float64(v), 'f', -1, 32)
}

// runListener publishes the first non-loopback listen address (loopback if
// that is all there is, e.g. ip=127.0.0.1 in local runs) and serves until
// a signal or the test timeout, which is a failure as upstream.
func runListener(ctx context.Context, s settings, rc *redis.Client, h host.Host) {
	addrs := h.Addrs()
	if len(addrs) == 0 {
		fatal(h, "the host has no listen address")
	}
	pick := addrs[0]
	for _, a := range addrs {
		if !manet.IsIPLoopback(a) {
			pick = a
			break
		}
	}
	p2p, err := ma.NewMultiaddr("/p2p/" + h.ID().String())
	if err != nil {
		fatal(h, "building /p2p component: %v", err)
	}
	published := pick.Encapsulate(p2p).String()
	if _, err := rc.RPush(ctx, s.redisKey, published).Result(); err != nil {
		fatal(h, "failed to publish the listener address: %v", err)
	}
	log.Printf("published %s under %q", published, s.redisKey)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-sigs:
		log.Printf("%v: shutting down", sig)
		h.Close()
		os.Exit(0)
	case <-ctx.Done():
		fatal(h, "test timeout (%v) reached", s.timeout)
	}
}

// logIdentify reports on stderr how identify with each remote went; it only
// watches go-libp2p's event bus and changes nothing on the wire.
func logIdentify(h host.Host) {
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtPeerIdentificationFailed),
	})
	if err != nil {
		log.Printf("identify events unavailable: %v", err)
		return
	}
	go func() {
		for ev := range sub.Out() {
			switch e := ev.(type) {
			case event.EvtPeerIdentificationCompleted:
				log.Printf("identify of %s done: agent %q, protocol %q, %d protocols, %d listen addrs, observed %v, signed record %v",
					e.Peer, e.AgentVersion, e.ProtocolVersion, len(e.Protocols), len(e.ListenAddrs), e.ObservedAddr, e.SignedPeerRecord != nil)
			case event.EvtPeerIdentificationFailed:
				log.Printf("identify of %s failed: %v", e.Peer, e.Reason)
			}
		}
	}()
}

// fatal closes the host (so the peer sees a clean close) and exits 1.
func fatal(h host.Host, format string, args ...any) {
	log.Printf(format, args...)
	h.Close()
	os.Exit(1)
}
