//! rust-libp2p interop test peer for lp2p-interop.
//!
//! Behaves like rust-libp2p's own harness app (`interop-tests`, binary
//! `native_ping`): one binary, listener or dialer, configured only by the
//! harness environment, meeting its peer through Redis. Both harness
//! conventions are spoken (see `Config::from_env`). Where this peer departs
//! from upstream, the comment says why; README.md lists the departures.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use libp2p::{
    identify, identity, noise, ping,
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, tls, yamux, Multiaddr, Swarm, SwarmBuilder,
};
use libp2p_mplex as mplex;
use redis::{aio::MultiplexedConnection, AsyncCommands, AsyncConnectionConfig};

/// Which harness started us: test-plans (lowercase env, key `listenerAddr`,
/// JSON line) or unified-testing (UPPERCASE env, `<TEST_KEY>_...`, YAML).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Convention {
    TestPlans,
    Unified,
}

#[derive(Debug)]
struct Config {
    convention: Convention,
    transport: String,
    security: Option<String>,
    muxer: Option<String>,
    ip: String,
    is_dialer: bool,
    timeout: Duration,
    redis_url: String,
    redis_key: String,
    debug: bool,
}

/// An unset and an empty variable mean the same (a harness that has nothing
/// to say for quic-v1 may pass `security=`).
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn required(name: &str) -> Result<String> {
    var(name).ok_or_else(|| anyhow!("{name} environment variable is not set"))
}

fn parse_bool(name: &str, default: bool) -> Result<bool> {
    match var(name) {
        None => Ok(default),
        // Upstream parses with `str::parse::<bool>`: only "true" / "false".
        Some(v) => v
            .parse::<bool>()
            .with_context(|| format!("{name}={v:?} is not true/false")),
    }
}

fn parse_secs(name: &str) -> Result<Duration> {
    match var(name) {
        None => Ok(Duration::from_secs(180)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_secs)
            .with_context(|| format!("{name}={v:?} is not a number of seconds")),
    }
}

impl Config {
    /// Unified-testing mode when TEST_KEY is set, test-plans mode otherwise.
    /// Defaults as upstream: is_dialer true, timeout 180 s, redis
    /// `redis:6379`; the listen IP is required in both.
    fn from_env() -> Result<Self> {
        let (convention, names) = match var("TEST_KEY") {
            Some(_) => (
                Convention::Unified,
                [
                    "TRANSPORT",
                    "SECURE_CHANNEL",
                    "MUXER",
                    "LISTENER_IP",
                    "IS_DIALER",
                    "TEST_TIMEOUT_SECS",
                    "REDIS_ADDR",
                ],
            ),
            None => (
                Convention::TestPlans,
                [
                    "transport",
                    "security",
                    "muxer",
                    "ip",
                    "is_dialer",
                    "test_timeout_seconds",
                    "redis_addr",
                ],
            ),
        };
        let [transport, security, muxer, ip, is_dialer, timeout, redis_addr] = names;
        let redis_key = match convention {
            Convention::Unified => {
                let key = required("TEST_KEY")?;
                format!("{key}_listener_multiaddr")
            }
            Convention::TestPlans => "listenerAddr".to_owned(),
        };
        Ok(Self {
            convention,
            transport: required(transport)?,
            security: var(security),
            muxer: var(muxer),
            ip: required(ip)?,
            is_dialer: parse_bool(is_dialer, true)?,
            timeout: parse_secs(timeout)?,
            redis_url: format!(
                "redis://{}",
                var(redis_addr).unwrap_or_else(|| "redis:6379".to_owned())
            ),
            redis_key,
            debug: convention == Convention::Unified && parse_bool("DEBUG", false)?,
        })
    }
}

/// Logs go to stderr (upstream's tracing subscriber writes to stdout, which
/// would mix with the result). RUST_LOG takes `target=level` directives;
/// DEBUG=true (unified-testing) turns libp2p's debug output on.
fn init_logging(debug: bool) {
    use tracing_subscriber::filter::Targets;
    let default = if debug {
        "debug"
    } else {
        "warn,rust_peer=info"
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| default.parse().expect("static filter"));
    use tracing_subscriber::prelude::*;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .try_init();
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    ping: ping::Behaviour,
    identify: identify::Behaviour,
}

fn behaviour(key: &identity::Keypair) -> Behaviour {
    Behaviour {
        // Upstream pings every second; the dialer stops at the first success.
        ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(1))),
        // Always on, as upstream: "Need to include identify until
        // nim-libp2p#924 is resolved" (nim refuses peers without it).
        identify: identify::Behaviour::new(identify::Config::new(
            "/interop-tests".to_owned(),
            key.public(),
        )),
    }
}

/// The transports upstream's native app builds (its `build_swarm`), minus
/// webrtc-direct (a separate alpha crate, disabled for rust in the harness).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Transport {
    Tcp,
    Ws,
    QuicV1,
}

fn transport_of(name: &str) -> Result<Transport> {
    Ok(match name {
        "tcp" => Transport::Tcp,
        "ws" => Transport::Ws,
        "quic-v1" => Transport::QuicV1,
        other => bail!("unknown transport {other}"),
    })
}

/// Listen address: `/ip4/<ip>/...` as upstream; an IPv6 `ip` (our loopback
/// runs with PAIR_IP=::1) gets `/ip6/`, which upstream does not offer.
fn listen_addr(ip: &str, t: Transport) -> Result<Multiaddr> {
    let parsed: IpAddr = ip.parse().with_context(|| format!("bad ip {ip:?}"))?;
    let family = if parsed.is_ipv6() { "ip6" } else { "ip4" };
    let tail = match t {
        Transport::Tcp => "tcp/0",
        Transport::Ws => "tcp/0/ws",
        Transport::QuicV1 => "udp/0/quic-v1",
    };
    Ok(format!("/{family}/{ip}/{tail}").parse()?)
}

/// A swarm over a stream transport with the given security and muxer
/// constructors: `tcp` (default tcp config: TCP_NODELAY on) or `ws`
/// (websocket over dns+tcp; the builder step is async).
macro_rules! stream_swarm {
    ($key:expr, tcp, $sec:expr, $mux:expr) => {
        SwarmBuilder::with_existing_identity($key)
            .with_tokio()
            .with_tcp(tcp::Config::default(), $sec, $mux)?
            .with_behaviour(behaviour)?
            .build()
    };
    ($key:expr, ws, $sec:expr, $mux:expr) => {
        SwarmBuilder::with_existing_identity($key)
            .with_tokio()
            .with_websocket($sec, $mux)
            .await?
            .with_behaviour(behaviour)?
            .build()
    };
}

async fn build_swarm(cfg: &Config) -> Result<(Swarm<Behaviour>, Multiaddr)> {
    let t = transport_of(&cfg.transport)?;
    let key = identity::Keypair::generate_ed25519();
    let sec = cfg.security.as_deref();
    let mux = cfg.muxer.as_deref();
    if t == Transport::QuicV1 && (sec.is_some() || mux.is_some()) {
        // quic-v1 brings its own security and muxing; the harness sends
        // neither, our run-pair.sh sends its defaults. Upstream would refuse.
        tracing::info!(?sec, ?mux, "quic-v1: ignoring security/muxer");
    }
    let swarm = match (t, sec, mux) {
        (Transport::QuicV1, _, _) => SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_quic()
            .with_behaviour(behaviour)?
            .build(),
        (Transport::Tcp, Some("noise"), Some("yamux")) => {
            stream_swarm!(key, tcp, noise::Config::new, yamux::Config::default)
        }
        (Transport::Tcp, Some("noise"), Some("mplex")) => {
            stream_swarm!(key, tcp, noise::Config::new, mplex::Config::default)
        }
        (Transport::Tcp, Some("tls"), Some("yamux")) => {
            stream_swarm!(key, tcp, tls::Config::new, yamux::Config::default)
        }
        (Transport::Tcp, Some("tls"), Some("mplex")) => {
            stream_swarm!(key, tcp, tls::Config::new, mplex::Config::default)
        }
        (Transport::Ws, Some("noise"), Some("yamux")) => {
            stream_swarm!(key, ws, noise::Config::new, yamux::Config::default)
        }
        (Transport::Ws, Some("noise"), Some("mplex")) => {
            stream_swarm!(key, ws, noise::Config::new, mplex::Config::default)
        }
        (Transport::Ws, Some("tls"), Some("yamux")) => {
            stream_swarm!(key, ws, tls::Config::new, yamux::Config::default)
        }
        (Transport::Ws, Some("tls"), Some("mplex")) => {
            stream_swarm!(key, ws, tls::Config::new, mplex::Config::default)
        }
        (t, s, m) => bail!("Unsupported combination: {t:?} {s:?} {m:?}"),
    };
    Ok((swarm, listen_addr(&cfg.ip, t)?))
}

/// Redis connection, retried until `deadline` (the harness may start us
/// before Redis answers). Upstream connects once; its redis crate's default
/// 500 ms response timeout would also cut a BLPOP short, so it is off here:
/// every wait below has its own bound.
async fn redis_connect(url: &str, deadline: Instant) -> Result<MultiplexedConnection> {
    let client = redis::Client::open(url).context("Could not connect to redis")?;
    let config = AsyncConnectionConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(Some(Duration::from_secs(2)));
    loop {
        match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() + Duration::from_millis(200) < deadline => {
                tracing::info!(%e, "redis not ready, retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e).context("Could not connect to redis"),
        }
    }
}

/// The listener's address. test-plans: one BLPOP over the whole timeout, as
/// upstream. unified-testing: some images SET the key instead of RPUSH, and
/// a blocked BLPOP is not woken by SET, so block in 1 s slices and GET the
/// key whenever it holds a string.
async fn fetch_listener_addr(cfg: &Config, deadline: Instant) -> Result<String> {
    let mut conn = redis_connect(&cfg.redis_url, deadline).await?;
    let key = cfg.redis_key.as_str();
    let left = |d: Instant| d.saturating_duration_since(Instant::now());
    if cfg.convention == Convention::TestPlans {
        // Whole seconds, as upstream sends them; rounded up, as the outer
        // deadline bounds the wait anyway.
        let secs = left(deadline).as_secs_f64().ceil().max(1.0);
        let got: Option<[String; 2]> = conn.blpop(key, secs).await?;
        return got
            .map(|[_, v]| v)
            .context("Failed to wait for listener to be ready");
    }
    while !left(deadline).is_zero() {
        let kind: redis::ValueType = conn.key_type(key).await?;
        if kind == redis::ValueType::String {
            if let Some(v) = conn.get::<_, Option<String>>(key).await? {
                return Ok(v);
            }
            continue;
        }
        let slice = left(deadline).as_secs_f64().clamp(0.1, 1.0);
        if let Some([_, v]) = conn.blpop::<_, Option<[String; 2]>>(key, slice).await? {
            return Ok(v);
        }
    }
    bail!("Failed to wait for listener to be ready: nothing under {key}")
}

async fn signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

struct Report {
    handshake_plus_one_rtt_ms: f32,
    ping_rtt_ms: f32,
}

/// Dial, then wait for the first successful outbound-or-inbound ping event,
/// as upstream (which takes any `ping::Event` with `Ok(rtt)`). Upstream
/// waits forever on a failed dial; here a dial error or a connection closed
/// before the ping ends the test at once, with the cause on stderr.
async fn dial(cfg: &Config, swarm: &mut Swarm<Behaviour>, deadline: Instant) -> Result<Report> {
    let other = fetch_listener_addr(cfg, deadline).await?;
    let addr: Multiaddr = other
        .parse()
        .with_context(|| format!("bad listener address {other:?}"))?;
    let start = Instant::now();
    swarm.dial(addr)?;
    tracing::info!(listener = %other, "dialing");
    let rtt = loop {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                result: Ok(rtt), ..
            })) => {
                tracing::info!(?rtt, "ping successful");
                break rtt;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                result: Err(e), ..
            })) => tracing::warn!(%e, "ping failed; retrying at the next interval"),
            SwarmEvent::ConnectionEstablished { endpoint, .. } => {
                tracing::info!(remote = %endpoint.get_remote_address(), "connected")
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                bail!("dial failed: {error}")
            }
            SwarmEvent::ConnectionClosed { cause, .. } => {
                bail!("connection closed before a ping succeeded: {cause:?}")
            }
            e => tracing::debug!("{e:?}"),
        }
    };
    Ok(Report {
        handshake_plus_one_rtt_ms: start.elapsed().as_micros() as f32 / 1000.,
        ping_rtt_ms: rtt.as_micros() as f32 / 1000.,
    })
}

/// Publish the first address of our listener that the dialer can reach.
/// Upstream skips every address containing "127.0.0.1" (it listens on
/// 0.0.0.0 in a container); skipping loopback only when the configured IP
/// is not loopback itself keeps that and lets loopback tests work.
async fn listen(cfg: &Config, swarm: &mut Swarm<Behaviour>, addr: Multiaddr, deadline: Instant) -> Result<()> {
    let keep_loopback = cfg
        .ip
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false);
    let id = swarm.listen_on(addr.clone())?;
    tracing::info!(address = %addr, "listening");
    let mut conn = redis_connect(&cfg.redis_url, deadline).await?;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } if listener_id == id => {
                if !keep_loopback && is_loopback(&address) {
                    continue;
                }
                let ma = format!("{address}/p2p/{}", swarm.local_peer_id());
                let _: usize = conn.rpush(&cfg.redis_key, &ma).await?;
                tracing::info!(%ma, key = %cfg.redis_key, "published");
                break;
            }
            SwarmEvent::ListenerClosed { reason, .. } => bail!("listener closed: {reason:?}"),
            SwarmEvent::ListenerError { error, .. } => bail!("listener error: {error}"),
            e => log_event(e),
        }
    }
    // Serve until the harness stops us; the caller bounds this.
    loop {
        log_event(swarm.select_next_some().await);
    }
}

/// Upstream logs every listener event at debug level only; a failed
/// incoming connection is the one a test needs to see, so it is a warning.
fn log_event(e: SwarmEvent<BehaviourEvent>) {
    match e {
        SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
            tracing::warn!(from = %send_back_addr, "incoming connection failed: {error:?}")
        }
        SwarmEvent::ConnectionEstablished { endpoint, .. } => {
            tracing::info!(remote = %endpoint.get_remote_address(), "connected")
        }
        e => tracing::debug!("{e:?}"),
    }
}

fn is_loopback(a: &Multiaddr) -> bool {
    use libp2p::multiaddr::Protocol;
    a.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

fn print_report(convention: Convention, r: &Report) -> Result<()> {
    use std::io::Write;
    // f32 Display: the shortest decimal that reads back the same, as
    // upstream's serde output for the same f32 (no exponent at these sizes).
    let text = match convention {
        Convention::TestPlans => format!(
            "{{\"handshakePlusOneRTTMillis\":{},\"pingRTTMilllis\":{}}}\n",
            r.handshake_plus_one_rtt_ms, r.ping_rtt_ms
        ),
        Convention::Unified => format!(
            "latency:\n  handshake_plus_one_rtt: {}\n  ping_rtt: {}\n  unit: ms\n",
            r.handshake_plus_one_rtt_ms, r.ping_rtt_ms
        ),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

async fn run(cfg: Config) -> Result<()> {
    let deadline = Instant::now() + cfg.timeout;
    let (mut swarm, addr) = build_swarm(&cfg).await?;
    tracing::info!(local_peer = %swarm.local_peer_id(), ?cfg, "running ping test");
    if cfg.is_dialer {
        let report = tokio::select! {
            r = tokio::time::timeout_at(deadline.into(), dial(&cfg, &mut swarm, deadline)) => {
                r.map_err(|_| anyhow!("no successful ping within {:?}", cfg.timeout))??
            }
            s = signal() => bail!("interrupted by {s} before the result"),
        };
        return print_report(cfg.convention, &report);
    }
    tokio::select! {
        r = tokio::time::timeout_at(deadline.into(), listen(&cfg, &mut swarm, addr, deadline)) => {
            r.map_err(|_| anyhow!("Test should have been killed by the test runner! ({:?} passed)", cfg.timeout))?
        }
        s = signal() => {
            tracing::info!("{s}: stopping");
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() {
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rust-peer: {e:#}");
            std::process::exit(2);
        }
    };
    init_logging(cfg.debug);
    if let Err(e) = run(cfg).await {
        eprintln!("rust-peer: {e:#}");
        std::process::exit(1);
    }
}
