// Command go-perf is a go-libp2p v0.48.0 perf peer for lp2p-interop's tests.
//
// It offers the command line of the test-plans perf apps
// (perf/impl/go-libp2p/<version>/ in libp2p/test-plans, read for facts; this
// is our own code): a server (--run-server --server-address IP:PORT) or a
// client (--server-address IP:PORT --transport tcp|quic-v1 --upload-bytes N
// --download-bytes M) of /perf/1.0.0 on a go-libp2p host.
//
// As upstream's app: go-libp2p's default host (tcp with TLS and Noise, TLS
// proposed first, yamux; quic-v1), no resource limits, and a stable server
// identity (Ed25519 from a seed of 32 zero bytes) so that the client can dial
// a peer id it did not learn: 12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN.
// The wire is the spec's (libp2p/specs perf/perf.md): one big-endian u64
// (the download size), the upload, half-close, the download to EOF.
//
// Only the client's JSON lines go to stdout; everything else to stderr. See
// README.md for where this differs from upstream (never on the wire).
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	perfID = "/perf/1.0.0"
	// 64 KiB writes, as upstream's app.
	blockSize = 64 << 10
	// The peer id of the zero-seed Ed25519 key; the test-plans clients dial it.
	serverPeerID = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
)

// result is one JSON line of the test-plans perf CLI.
type result struct {
	Type          string  `json:"type"`
	TimeSeconds   float64 `json:"timeSeconds"`
	UploadBytes   uint64  `json:"uploadBytes"`
	DownloadBytes uint64  `json:"downloadBytes"`
}

var stdoutMu sync.Mutex

func emit(r result) {
	b, err := json.Marshal(r)
	if err != nil {
		log.Fatalf("marshal: %v", err)
	}
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func main() {
	log.SetOutput(os.Stderr)
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("go-perf: ")
	runServer := flag.Bool("run-server", false, "run the server")
	serverAddr := flag.String("server-address", "", "IP:PORT to listen on (server) or dial (client)")
	transport := flag.String("transport", "tcp", "client transport: tcp or quic-v1")
	upload := flag.Uint64("upload-bytes", 0, "client: bytes to upload")
	download := flag.Uint64("download-bytes", 0, "client: bytes to ask the server for")
	// Ours, not upstream's: narrow tcp's security to one protocol (default:
	// go's default, TLS then Noise) so that both can be tested either way.
	security := flag.String("security", "", "tcp security: tls or noise (default both, TLS first)")
	// A bad flag: flag's own one-line error, exit 2, without the usage text.
	flag.Usage = func() {}
	flag.Parse()
	if flag.NArg() != 0 {
		log.Fatalf("unexpected argument %q", flag.Arg(0))
	}

	ip, port, err := net.SplitHostPort(*serverAddr)
	if err != nil || net.ParseIP(ip) == nil {
		log.Fatalf("--server-address %q: want IP:PORT", *serverAddr)
	}
	family := "ip4"
	if net.ParseIP(ip).To4() == nil {
		family = "ip6"
	}
	tcpAddr := fmt.Sprintf("/%s/%s/tcp/%s", family, ip, port)
	quicAddr := fmt.Sprintf("/%s/%s/udp/%s/quic-v1", family, ip, port)

	opts := []libp2p.Option{libp2p.ResourceManager(&network.NullResourceManager{})}
	switch *security {
	case "":
	case "tls":
		opts = append(opts, libp2p.Security(libp2ptls.ID, libp2ptls.New))
	case "noise":
		opts = append(opts, libp2p.Security(noise.ID, noise.New))
	default:
		log.Fatalf("--security %q: want tls or noise", *security)
	}

	if *runServer {
		serve(opts, tcpAddr, quicAddr)
		return
	}
	var dial string
	switch *transport {
	case "tcp":
		dial = tcpAddr
	case "quic-v1":
		dial = quicAddr
	default:
		log.Fatalf("--transport %q: want tcp or quic-v1", *transport)
	}
	// Upstream's client listens on go's default addresses (every
	// interface); a client needs none, so this one listens nowhere.
	opts = append(opts, libp2p.NoListenAddrs)
	os.Exit(client(opts, dial, *upload, *download))
}

// zeroSeedKey is upstream's stable server identity: Ed25519 from 32 zero bytes.
func zeroSeedKey() crypto.PrivKey {
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		log.Fatalf("server key: %v", err)
	}
	return k
}

// logConns says which stack each connection got (for the tests' logs).
func logConns(h host.Host) {
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			st := c.ConnState()
			log.Printf("connected %s %s: transport %s, security %s, muxer %s",
				c.RemotePeer(), c.RemoteMultiaddr(), st.Transport, orDash(string(st.Security)),
				orDash(string(st.StreamMultiplexer)))
		},
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func serve(opts []libp2p.Option, addrs ...string) {
	opts = append(opts, libp2p.Identity(zeroSeedKey()), libp2p.ListenAddrStrings(addrs...))
	h, err := libp2p.New(opts...)
	if err != nil {
		log.Fatalf("libp2p host: %v", err)
	}
	if h.ID().String() != serverPeerID {
		log.Fatalf("server peer id %s, want %s", h.ID(), serverPeerID)
	}
	logConns(h)
	h.SetStreamHandler(perfID, handle)
	// Upstream prints these to stdout; here stdout is the client's only.
	for _, a := range h.Addrs() {
		log.Printf("listening on %s/p2p/%s", a, h.ID())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	s := <-sig
	log.Printf("stopped by %v", s)
	h.Close()
}

// handle serves one perf stream: the u64 download size, the upload to EOF,
// then that many bytes and a half-close (perf.md).
func handle(s network.Stream) {
	defer s.Close()
	var hdr [8]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		log.Printf("perf: reading the header: %v", err)
		s.Reset()
		return
	}
	down := binary.BigEndian.Uint64(hdr[:])
	up, err := io.Copy(io.Discard, s)
	if err != nil {
		log.Printf("perf: reading the upload after %d bytes: %v", up, err)
		s.Reset()
		return
	}
	if err := send(s, down, nil); err != nil {
		log.Printf("perf: sending %d bytes: %v", down, err)
		s.Reset()
		return
	}
	if err := s.CloseWrite(); err != nil {
		log.Printf("perf: half-close: %v", err)
		return
	}
	log.Printf("perf: served: received %d bytes, sent %d bytes", up, down)
}

// progress prints an "intermediary" line at most once a second: bytes
// moved since the last line, as upstream's app.
type progress struct {
	last     time.Time
	up, down uint64
}

func (p *progress) add(up, down uint64) {
	p.up += up
	p.down += down
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		emit(result{"intermediary", now.Sub(p.last).Seconds(), p.up, p.down})
		p.last, p.up, p.down = now, 0, 0
	}
}

var zeros [blockSize]byte

func send(w io.Writer, n uint64, p *progress) error {
	for n > 0 {
		b := zeros[:]
		if n < blockSize {
			b = b[:n]
		}
		k, err := w.Write(b)
		if err != nil {
			return err
		}
		n -= uint64(k)
		if p != nil {
			p.add(uint64(k), 0)
		}
	}
	return nil
}

func client(opts []libp2p.Option, dial string, up, down uint64) int {
	h, err := libp2p.New(opts...)
	if err != nil {
		log.Printf("libp2p host: %v", err)
		return 1
	}
	defer h.Close()
	logConns(h)
	info, err := peer.AddrInfoFromP2pAddr(ma.StringCast(dial + "/p2p/" + serverPeerID))
	if err != nil {
		log.Printf("address %s: %v", dial, err)
		return 1
	}
	ctx := context.Background()
	start := time.Now() // upstream's clock starts before the dial
	if err := h.Connect(ctx, *info); err != nil {
		log.Printf("dial %s: %v", dial, err)
		return 1
	}
	got, err := run(ctx, h, info.ID, up, down)
	if err != nil {
		log.Printf("perf: %v", err)
		return 1
	}
	emit(result{"final", time.Since(start).Seconds(), up, got})
	return 0
}

func run(ctx context.Context, h host.Host, p peer.ID, up, down uint64) (uint64, error) {
	s, err := h.NewStream(ctx, p, perfID)
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", perfID, err)
	}
	defer s.Close()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], down)
	if _, err := s.Write(hdr[:]); err != nil {
		return 0, fmt.Errorf("writing the header: %w", err)
	}
	prog := &progress{last: time.Now()}
	if err := send(s, up, prog); err != nil {
		return 0, fmt.Errorf("uploading: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		return 0, fmt.Errorf("half-close: %w", err)
	}
	var got uint64
	buf := make([]byte, blockSize)
	for {
		n, err := s.Read(buf)
		got += uint64(n)
		prog.add(0, uint64(n))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return got, fmt.Errorf("downloading after %d bytes: %w", got, err)
		}
	}
	if got != down {
		return got, fmt.Errorf("downloaded %d bytes, asked for %d", got, down)
	}
	return got, nil
}
