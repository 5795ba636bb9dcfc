//! Throwaway PKI for the TLS tests: a CA, server and client certificates made with rcgen, keys in
//! the PEM forms Nomad users have (`EC PRIVATE KEY` as `nomad tls cert create` writes,
//! `PRIVATE KEY`, `RSA PRIVATE KEY`), written to a temporary directory that is removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A directory under the system temp dir, unique per process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "nomad-rs-{label}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` in this directory and returns the path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, with the key in several PEM encodings.
pub struct Leaf {
    pub cert_pem: String,
    /// `PRIVATE KEY` (PKCS#8).
    pub key_pkcs8_pem: String,
    /// `EC PRIVATE KEY` (SEC1, with the curve parameters, as Go's `x509.MarshalECPrivateKey`)
    /// for P-256 keys, `RSA PRIVATE KEY` (PKCS#1) for RSA keys.
    pub key_legacy_pem: String,
}

/// Which key a leaf certificate gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    P256,
    Rsa2048,
}

/// The CA, as `nomad tls ca create` would make one.
pub fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
    Ca {
        issuer: CertifiedIssuer::self_signed(params, key).expect("CA cert"),
    }
}

impl Ca {
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, KeyType::P256, false)
    }

    /// A server certificate that expired in 2020.
    pub fn expired_server(&self, names: &[&str]) -> Leaf {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, KeyType::P256, true)
    }

    /// A client certificate (`cli.global.nomad`, as `nomad tls cert create -cli`).
    pub fn client(&self, key: KeyType) -> Leaf {
        self.leaf(&["cli.global.nomad"], ExtendedKeyUsagePurpose::ClientAuth, key, false)
    }

    fn leaf(&self, names: &[&str], usage: ExtendedKeyUsagePurpose, key_type: KeyType, expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let key = match key_type {
            KeyType::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key"),
            KeyType::Rsa2048 => KeyPair::from_pem(RSA_2048_PKCS8).expect("RSA test key"),
        };
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        let pkcs8 = key.serialize_der();
        let legacy = match key_type {
            KeyType::P256 => pem("EC PRIVATE KEY", &pkcs8_p256_to_sec1(&pkcs8)),
            KeyType::Rsa2048 => pem("RSA PRIVATE KEY", &pkcs8_inner_key(&pkcs8)),
        };
        Leaf {
            cert_pem: cert.pem(),
            key_pkcs8_pem: key.serialize_pem(),
            key_legacy_pem: legacy,
        }
    }
}

/// A throwaway RSA-2048 key for tests only (ring, which rcgen uses here, can sign with RSA keys
/// but cannot generate them). Generated with `openssl genpkey -algorithm RSA`.
const RSA_2048_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCZE07Phd8ejv7/
sd2D+hDtH9aPStpGuVlAE3KkM/F7kBOoTXJil9wn7TFQItUS6DcGd/IO2nkzkjd3
z6wTzQOKNWh4JAzNNz9VhAjJaEj+yjIhdwf0ljOzZ+Ng5E8hcCe1ApxCZiU+u4tP
3rhVM3u4XVYYvNZVvWol1zy4FAgCWwSU005GxymheoiVA1vDp/vBnY2vjALUncxR
8vN8XehZ77noTaz82rAEBD/IaSMq3jroHqcQDJdPRH8W9R9DphkOabFAQQtibYad
EvE3WJFHATIw9mD5D8MTC2bkV6n33os4Ajnm/xWVraPM6tSFbGuSyeXlksWXeRxq
I0zjTNOFAgMBAAECggEAB/YVnLxxMMUuJP1KsJECbVrBDX3OoWwFZMw+I6Uh85O4
OgIhJ1iPljIDZRASteOG7Rqy56vcLt71bJFL+VGp0/fYIZt6YPf1Hsz5qgP2++1n
Mw9eRg3DzZpjHIhzRyFupz7mApwOZtdZNQO34ZKGZj3QewPjP91Ulng9y7MbAYhG
uqeDZzz42uOCoxo+IW7aF6kP1BtOqmuMr2wq07sm9lhuS1scnaaTnE4ch6bZstDo
XJQ1sjLyjr4s6Di1ue2uo8z4yQASXeKWPSUjO+jL2kF4VOvvQwxEPv4teJlRDaom
heji1/tkItORdgr08YPDF/0lIXsdMuHlimeJM9B/hwKBgQDHicxNAnyW9NGZIM5R
ZFbK3wtpFOfEIfMeU5kSWRUL4ULblftXIOL3bDYLW9P9uhXcod14yjeleAkUPWb4
EGFvFVWc5NJG7MYpb+pLLmSi1MtkBjW7AarF3uyJBf33zLaGbSwUEZYWW1nLpEgw
KUz0LdqQ3gX/NLnrXk6AVeYpHwKBgQDEY9KJ8QH5xLQ8p6BjNb9B5Uz4iqI78IAp
W5tQ3bzZNFYlzSCnl8GzMbgiyrzGrm/hL5EvmA//Hsp71OPQ2umXpfcBxTsREkEF
spgwyll0nqYezUM+lXQjc2dFm3JRxV81MaBaRIzGu0UQeuulfRREdA0HGOGOeCUd
3xmDaPWa2wKBgEPQWCef/bnMEGPLW3Mb98dQ0G7xFOd6ZkbbQH2U2utDrlY0fcwZ
uClAlIl9tulXUdC/DibcCtdomSVQzOrnnkWDaao9th02oQ46I9VTOg6A5XLkDWS1
51UCMz9KUwrhfvLmrYFQjMKiXz0vYv1DPA0MfGiZnE4knD8auPEywFsfAoGBALmQ
7O5EWS6NbBTn+wfjUD3OkcVDEXp7jE4H7iEh9AB0kHYVdiaFoZRVhXzyfh9p0fNA
Q/ppv6u7h24swbqmLxSI0HXOzDocOm5My7tGZ/Jmuebe4wwuodehgtJlyEZ1rbmQ
k8jXfwGFEAQ7cZAkONNZqLmtC+vXoJKyLORbd78DAoGADkACAyHJjrRHepNqscku
XQl6fWwpORoJN0w4Rwj5d46XcK/3+41biAjGEU/1SizgdH2ezXZ+9GyQfTySaEwe
Hj69N+wRyP/OovUEPSeobZcwHxnH7Vl/MG7Uv3lO4pErK/a5LIjqQH5yfQpR3sQ0
ag99CBf79YBOp/O6AKOFcKw=
-----END PRIVATE KEY-----
";

// --- minimal DER, enough to unwrap PKCS#8 -------------------------------------------------

/// One DER element: (tag, header length, content).
fn der_element(input: &[u8]) -> (u8, usize, &[u8]) {
    let tag = input[0];
    let first = input[1] as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let len = input[2..2 + n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    (tag, header, &input[header..header + len])
}

/// The elements inside a constructed element's content.
fn der_children(mut content: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, header, inner) = der_element(content);
        let total = header + inner.len();
        out.push((tag, content[..total].to_vec()));
        content = &content[total..];
    }
    out
}

fn der_encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// PKCS#8 `PrivateKeyInfo` → the `privateKey` OCTET STRING's content (an `ECPrivateKey` or an
/// `RSAPrivateKey`).
pub fn pkcs8_inner_key(pkcs8: &[u8]) -> Vec<u8> {
    let (_, _, seq) = der_element(pkcs8);
    let children = der_children(seq);
    let (tag, octet) = &children[2];
    assert_eq!(*tag, 0x04, "PKCS#8 privateKey is an OCTET STRING");
    der_element(octet).2.to_vec()
}

/// P-256 PKCS#8 → SEC1 `ECPrivateKey` with the `[0] namedCurve` parameters that PKCS#8 leaves
/// out (Go's and OpenSSL's `EC PRIVATE KEY` files have them).
pub fn pkcs8_p256_to_sec1(pkcs8: &[u8]) -> Vec<u8> {
    let inner = pkcs8_inner_key(pkcs8);
    let (_, _, content) = der_element(&inner);
    let children = der_children(content);
    // prime256v1 = 1.2.840.10045.3.1.7
    let curve = der_encode(0xa0, &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
    let mut body = Vec::new();
    body.extend(&children[0].1); // version
    body.extend(&children[1].1); // privateKey
    if !children.iter().any(|(tag, _)| *tag == 0xa0) {
        body.extend(&curve);
    }
    for (_, element) in &children[2..] {
        body.extend(element);
    }
    der_encode(0x30, &body)
}

/// PEM-encodes `der` with `label`.
pub fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
