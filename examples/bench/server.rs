//! The static HTTP server the per-call and large-answer benchmarks call.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use crate::Res;

/// A minimal keep-alive HTTP/1.1 server answering fixed bodies (gzipped when the request
/// accepts gzip, as Nomad does), so the client side dominates what is measured.
pub fn start_static_server(routes: &[(&str, Vec<u8>)]) -> Res<String> {
    let mut table = HashMap::new();
    for (path, body) in routes {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body)?;
        let gz = gz.finish()?;
        let head = |len: usize, gzip: bool| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{}Content-Length: {len}\r\n\r\n",
                if gzip {
                    "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
                } else {
                    ""
                }
            )
            .into_bytes()
        };
        let plain = [head(body.len(), false), body.clone()].concat();
        let gzip = [head(gz.len(), true), gz].concat();
        table.insert(path.to_string(), (plain, gzip));
    }
    let table = Arc::new(table);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let table = Arc::clone(&table);
            std::thread::spawn(move || {
                let _ = serve_connection(stream, &table);
            });
        }
    });
    Ok(url)
}

fn serve_connection(stream: TcpStream, table: &HashMap<String, (Vec<u8>, Vec<u8>)>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split(' ').nth(1).unwrap_or("");
        let path = target.split('?').next().unwrap_or("").to_owned();
        let (mut gzip, mut content_length) = (false, 0u64);
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("accept-encoding") {
                    gzip = value.contains("gzip");
                } else if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        std::io::copy(&mut (&mut reader).take(content_length), &mut std::io::sink())?;
        match table.get(&path) {
            Some((plain, gz)) => writer.write_all(if gzip { gz } else { plain })?,
            None => writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
    }
}
