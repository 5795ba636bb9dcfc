//! [`Address`]: where the agent's HTTP API is, parsed from `http://`, `https://` and `unix://`
//! URLs (credentials in the URL become [`BasicAuth`]), and [`redact_userinfo`], which shows an
//! address without them.

use std::fmt;
use std::path::PathBuf;

use super::secret::BasicAuth;
use crate::error::BuildError;

/// Where the agent's HTTP API is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// `http://` or `https://` with host, port and an optional path prefix (for agents behind a
    /// reverse proxy).
    Http {
        /// `true` for `https`.
        tls: bool,
        /// `host[:port]` as it goes into the URI.
        authority: String,
        /// A path prefix without a trailing slash (usually empty).
        prefix: String,
    },
    /// `unix:///path/to/api.sock`: the Task API socket inside an allocation. Requests are built
    /// for `http://127.0.0.1/…`, as Nomad's Go client does, and a transport dials the socket.
    Unix {
        /// The socket path.
        path: PathBuf,
    },
}

impl Address {
    /// Parses `http://host:port[/prefix]`, `https://…` or `unix:///path`. Credentials in the
    /// URL (`http://user:pass@host`) are returned separately as basic auth. An `http(s)` address
    /// without a port uses the scheme's default ([`Address::port`]).
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidAddress`] (showing the address without its credentials) for a
    /// missing or unsupported scheme, a missing host, an invalid port, a query or fragment, or
    /// a relative socket path.
    pub fn parse(input: &str) -> Result<(Address, Option<BasicAuth>), BuildError> {
        let input = input.trim();
        let fail = |reason: &str| BuildError::InvalidAddress {
            address: redact_userinfo(input),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| fail("expected a URL such as http://127.0.0.1:4646 or unix:///path/to/api.sock"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "unix" => Ok((parse_unix(rest).map_err(fail)?, None)),
            "http" => parse_http(false, rest).map_err(fail),
            "https" => parse_http(true, rest).map_err(fail),
            _ => Err(fail("unsupported scheme (use http, https or unix)")),
        }
    }

    /// The scheme, authority and prefix that request URIs start with.
    pub fn base_url(&self) -> String {
        match self {
            Address::Http { tls, authority, prefix } => {
                format!("{}://{authority}{prefix}", if *tls { "https" } else { "http" })
            }
            Address::Unix { .. } => "http://127.0.0.1".to_owned(),
        }
    }

    /// True for `https://` addresses.
    pub fn is_tls(&self) -> bool {
        matches!(self, Address::Http { tls: true, .. })
    }

    /// The host a transport connects to, for `http://` and `https://` addresses: the
    /// authority's host without the port, and without the brackets of an IPv6 literal
    /// (`::1` for `http://[::1]:4646`). `None` for a `unix://` address (see
    /// [`Address::socket_path`]).
    pub fn host(&self) -> Option<&str> {
        let Address::Http { authority, .. } = self else {
            return None;
        };
        let host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(host, _)| host),
            None => authority.rsplit_once(':').map_or(authority.as_str(), |(host, _)| host),
        };
        Some(host)
    }

    /// The port a transport connects to: the authority's port, else the scheme's default (80
    /// for `http`, 443 for `https`; the agent's own default, 4646, applies only to the default
    /// address, which names it). `None` for a `unix://` address.
    ///
    /// ```
    /// use nomad_proto::Address;
    ///
    /// let (address, _) = Address::parse("https://nomad.example")?;
    /// assert_eq!((address.host(), address.port()), (Some("nomad.example"), Some(443)));
    /// let (address, _) = Address::parse("http://[::1]:4646")?;
    /// assert_eq!((address.host(), address.port()), (Some("::1"), Some(4646)));
    /// // A transport can dial `(host, port)` with `std::net::ToSocketAddrs`.
    /// let (address, _) = Address::parse("unix:///run/nomad/api.sock")?;
    /// assert_eq!((address.host(), address.port()), (None, None));
    /// assert_eq!(address.socket_path(), Some(std::path::Path::new("/run/nomad/api.sock")));
    /// # Ok::<(), nomad_proto::BuildError>(())
    /// ```
    pub fn port(&self) -> Option<u16> {
        let Address::Http { tls, authority, .. } = self else {
            return None;
        };
        let after_host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
            None => authority.rsplit_once(':').map_or("", |(_, port)| port),
        };
        let explicit = after_host.strip_prefix(':').unwrap_or(after_host);
        match explicit.parse() {
            Ok(port) => Some(port),
            Err(_) => Some(if *tls { 443 } else { 80 }),
        }
    }

    /// The socket path of a `unix://` address (the requests it builds say
    /// `http://127.0.0.1/…`); `None` for `http://` and `https://`.
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        match self {
            Address::Unix { path } => Some(path),
            Address::Http { .. } => None,
        }
    }
}

impl fmt::Display for Address {
    /// The address as a URL (`unix:///path` for a socket), padded to the formatter's width.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix { path } => f.pad(&format!("unix://{}", path.display())),
            other => f.pad(&other.base_url()),
        }
    }
}

/// The part of a `unix://` address after the scheme: an absolute, percent-encoded socket path.
fn parse_unix(rest: &str) -> Result<Address, &'static str> {
    let path = percent_decode(rest).ok_or("invalid percent-encoding in socket path")?;
    if !path.starts_with('/') {
        return Err("a unix address needs an absolute socket path, e.g. unix:///run/nomad/api.sock");
    }
    Ok(Address::Unix {
        path: PathBuf::from(path),
    })
}

/// The part of an `http://` or `https://` address after the scheme:
/// `[user[:password]@]host[:port][/prefix]`.
fn parse_http(tls: bool, rest: &str) -> Result<(Address, Option<BasicAuth>), &'static str> {
    if rest.contains(['?', '#']) {
        return Err("an agent address cannot have a query or fragment");
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (auth, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(parse_userinfo(userinfo)?), host_port),
        None => (None, authority),
    };
    check_host_port(host_port)?;
    let prefix = path.trim_end_matches('/');
    if !prefix.is_empty() && http::uri::PathAndQuery::try_from(prefix).is_err() {
        return Err("invalid path prefix");
    }
    let address = Address::Http {
        tls,
        authority: host_port.to_owned(),
        prefix: prefix.to_owned(),
    };
    Ok((address, auth))
}

/// `user[:password]` from an address, percent-decoded.
fn parse_userinfo(userinfo: &str) -> Result<BasicAuth, &'static str> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let user = percent_decode(user).ok_or("invalid percent-encoding in user name")?;
    let password = password
        .map(|p| percent_decode(p).ok_or("invalid percent-encoding in password"))
        .transpose()?;
    Ok(BasicAuth::new(user, password))
}

/// `host[:port]`: a host is required; a port, if given, must be a number up to 65535.
fn check_host_port(host_port: &str) -> Result<(), &'static str> {
    if host_port.is_empty() {
        return Err("missing host");
    }
    let parsed: http::uri::Authority = host_port.parse().map_err(|_| "invalid host or port")?;
    if parsed.host().is_empty() {
        return Err("missing host");
    }
    if let Some((_, port)) = host_port.rsplit_once(':') {
        // A `:` in a bracketed IPv6 host without a port is not a port separator.
        if !host_port.ends_with(']') && port.parse::<u16>().is_err() {
            return Err("invalid port");
        }
    }
    Ok(())
}

/// Replaces `user:password@` in an address with `<redacted>@`, also when the scheme is missing
/// (`admin:pw@host:4646`), which is exactly the input that gets rejected and shown in an error.
///
/// Public so transports can show proxy URLs the same way.
pub fn redact_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (&input[..scheme.len() + 3], rest),
        None => ("", input),
    };
    let slashes = rest.len() - rest.trim_start_matches('/').len();
    let (slashes, rest) = rest.split_at(slashes);
    // The last `@` anywhere, not only in the authority: a password holding a raw `/`, `?` or
    // `#` (`https://u:ab/c@host`) ends the authority early, yet must not leak into the error.
    // An `@` in a path prefix is over-redacted, which is harmless.
    match rest.rfind('@') {
        Some(at) => format!("{scheme}{slashes}<redacted>@{}", &rest[at + 1..]),
        None => input.to_owned(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
