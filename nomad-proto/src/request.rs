//! [`RequestBuilder`]: a request from a [`Config`] the way every operation of this crate builds
//! it (address and prefix, token exactly once, basic auth, extra headers, region, namespace,
//! query, JSON body), and the checks on its path.

use std::borrow::Cow;
use std::fmt;

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request};

use crate::config::{check_query_value, Config, Token};
use crate::endpoint::CallOptions;
use crate::error::BuildError;

/// Builds a request from a [`Config`] the way every operation of this crate does: the
/// address and its path prefix, the ACL token exactly once (the per-call one, else the
/// client-wide one), basic auth, the extra headers, `region` and `namespace` (per-call, else
/// client-wide), percent-encoded query parameters and an optional JSON body. Use it to write an
/// [`Endpoint`](crate::Endpoint) for any Nomad endpoint (see the example there), or send one-off calls with
/// [`Raw`](crate::Raw).
///
/// The path is checked when the request is built ([`BuildError::InvalidPath`]): it must start
/// with `/`, hold no query (`?`, use [`query`](Self::query)) or fragment, no `.` or `..`
/// segment (also percent-encoded: they could leave the address's path prefix), and only
/// printable ASCII (percent-encode anything else).
///
/// ```
/// use nomad_proto::{CallOptions, Config, RequestBuilder, WithCallOptions};
///
/// let config = Config::builder().address("http://10.0.0.5:4646/nomad").token("s3cr3t").region("eu").build()?;
/// let options = CallOptions::new().namespace("prod");
/// // `GET /v1/jobs?prefix=…`: the jobs whose ID starts with `web/`.
/// let request = RequestBuilder::get("/v1/jobs", &options).query("prefix", "web/").build(&config)?;
/// assert_eq!(request.uri(), "http://10.0.0.5:4646/nomad/v1/jobs?prefix=web%2F&region=eu&namespace=prod");
/// assert_eq!(request.headers()["x-nomad-token"], "s3cr3t");
///
/// // `POST /v1/search` with a JSON body.
/// let request = RequestBuilder::post("/v1/search", &options)
///     .json(&serde_json::json!({"Prefix": "web", "Context": "jobs"}))?
///     .build(&config)?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// // A path that would leave the `/nomad` prefix is refused.
/// let err = RequestBuilder::get("/../admin", &options).build(&config).unwrap_err();
/// assert!(matches!(err, nomad_proto::BuildError::InvalidPath { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a request builder does nothing until `build` is called"]
pub struct RequestBuilder<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(Cow<'static, str>, String)>,
    body: Option<Vec<u8>>,
    options: &'a CallOptions,
}

/// The operations of this crate call [`RequestBuilder`] by its former, shorter name.
pub(crate) use RequestBuilder as Spec;

impl fmt::Debug for RequestBuilder<'_> {
    /// The body is not shown (it may hold a secret, such as a gossip key): only its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> RequestBuilder<'a> {
    /// A request with `method` for `path` (e.g. `/v1/status/leader`), with the per-call
    /// `options`.
    pub fn new(method: Method, path: &'a str, options: &'a CallOptions) -> Self {
        RequestBuilder {
            method,
            path,
            query: Vec::new(),
            body: None,
            options,
        }
    }

    /// A `GET` request.
    pub fn get(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::GET, path, options)
    }

    /// A `PUT` request.
    pub fn put(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::PUT, path, options)
    }

    /// A `POST` request.
    pub fn post(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::POST, path, options)
    }

    /// A `DELETE` request.
    pub fn delete(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::DELETE, path, options)
    }

    /// Adds a query parameter, percent-encoded when the request is built (repeat the call for
    /// repeated parameters). `region` and `namespace` come from the options and the config: set
    /// them there.
    pub fn query(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a JSON body (sent with `Content-Type: application/json`).
    ///
    /// # Errors
    ///
    /// [`BuildError::Encode`] if `body` cannot be encoded as JSON (e.g. a map with non-string
    /// keys).
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self, BuildError> {
        self.body = Some(serde_json::to_vec(body).map_err(BuildError::Encode)?);
        Ok(self)
    }

    /// Adds a body already encoded as JSON.
    pub(crate) fn json_bytes(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Builds the request for `config`: absolute URI, method, headers, body.
    ///
    /// # Errors
    ///
    /// - [`BuildError::InvalidPath`] if the path breaks the rules above.
    /// - [`BuildError::InvalidArgument`] for an empty per-call region or namespace, or one with
    ///   control characters, or a URI the `http` crate refuses (e.g. longer than 64 KiB).
    /// - [`BuildError::InvalidToken`] if the per-call token cannot be a header value.
    pub fn build(self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        check_path(self.path)?;
        // The config's region and namespace were checked when it was built; per-call ones here.
        for (name, value) in [("region", &self.options.region), ("namespace", &self.options.namespace)] {
            if let Some(v) = value {
                check_query_value(name, v)?;
            }
        }
        let region = self.options.region.as_deref().or(config.region());
        let namespace = self.options.namespace.as_deref().or(config.namespace());
        let base = config.base_url();
        let mut uri = String::with_capacity(base.len() + self.path.len() + 64);
        uri.push_str(base);
        uri.push_str(self.path);
        let has_query = !self.query.is_empty() || region.is_some() || namespace.is_some();
        if has_query {
            uri.push('?');
            let mut ser = form_urlencoded::Serializer::for_suffix(uri, base.len() + self.path.len() + 1);
            for (name, value) in &self.query {
                ser.append_pair(name, value);
            }
            if let Some(region) = region {
                ser.append_pair("region", region);
            }
            if let Some(namespace) = namespace {
                ser.append_pair("namespace", namespace);
            }
            uri = ser.finish();
        }

        // Parse the URI first: a URI the http crate refuses (e.g. longer than 64 KiB, from thousands
        // of addresses or a huge node name) is a typed error, never a panic.
        let uri = http::Uri::try_from(uri)
            .map_err(|e| BuildError::argument("uri", format!("the request URI cannot be built: {e}")))?;
        let mut request = Request::new(self.body.unwrap_or_default());
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        let has_body = !request.body().is_empty();
        let headers = request.headers_mut();
        for (name, value) in config.headers() {
            headers.append(name, value.clone());
        }
        if let Some(auth) = config.basic_auth() {
            headers.insert(http::header::AUTHORIZATION, auth.header_value().clone());
        }
        // Exactly one token header: the per-call token, else the client-wide one. It replaces any
        // X-Nomad-Token given as an extra header (two make the agent answer 400); with no token
        // at all, such an extra header is sent as given.
        let per_call;
        let token = match &self.options.token {
            Some(t) => {
                per_call = Token::new(t.expose())?;
                Some(&per_call)
            }
            None => config.token(),
        };
        if let Some(token) = token {
            // `insert` drops every earlier value of the header.
            headers.insert("x-nomad-token", token.header_value().clone());
        }
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(request)
    }
}

/// Checks a request path: absolute, printable ASCII, no query or fragment, no authority, and no
/// `.` or `..` segment, also once percent-decoded (with `%2F` and `\` read as separators, as some
/// servers and proxies read them), so that it cannot leave the address's path prefix.
fn check_path(path: &str) -> Result<(), BuildError> {
    let fail = |reason: &'static str| {
        Err(BuildError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if !path.starts_with('/') {
        return fail("must start with `/` (a path such as /v1/status/leader, without scheme or host)");
    }
    if path.starts_with("//") {
        return fail("must not start with `//` (it would name a host)");
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return fail("spaces, control characters and non-ASCII characters must be percent-encoded");
    }
    if path.contains(['?', '#']) {
        return fail("must not hold a query or fragment (add query parameters with `query`)");
    }
    let decoded = if path.contains('%') {
        Cow::Owned(percent_encoding::percent_decode(path.as_bytes()).collect())
    } else {
        Cow::Borrowed(path.as_bytes())
    };
    if decoded
        .split(|&b| b == b'/' || b == b'\\')
        .any(|segment| segment == b"." || segment == b"..")
    {
        return fail("must not hold `.` or `..` segments");
    }
    Ok(())
}
