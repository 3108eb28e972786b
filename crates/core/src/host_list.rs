//! Several servers in one connection setting, written as libpq takes them: in the URL's
//! authority (`postgres://user@db1:5432,db2:5432/mes`), as `?host=db1,db2&port=5432,5433`, or in
//! `PGHOST`/`PGPORT` when the URL names no host. sqlx connects to one host, so each is turned
//! into a URL of its own; which of them accepts writes is found when connecting (`failover`).
//! As an extension, a host in a list may carry its port (`db1:5433`; IPv6 as `[::1]:5433`).

/// The single-host URLs a URL names, in its order; `Ok(None)` when it names one host (or none).
/// `Err` when the list is malformed (an empty host, a port that is not a number, or more ports
/// than hosts).
pub(crate) fn per_host_urls(url: &str) -> Result<Option<Vec<String>>, ()> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user_info, host_spec) = match authority.rsplit_once('@') {
        Some((user_info, host_spec)) => (Some(user_info), host_spec),
        None => (None, authority),
    };
    if host_spec.contains(',') {
        let hosts = split_list(host_spec, &[], true)?;
        let user_info = user_info.map_or_else(String::new, |u| format!("{u}@"));
        let urls = hosts
            .into_iter()
            .map(|h| format!("{scheme}://{user_info}{}{tail}", h.authority()))
            .collect();
        return Ok(Some(urls));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        // Not a URL this module can take apart: the caller's parser says what is wrong.
        return Ok(None);
    };
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (hosts, ports) = match param("host") {
        Some(hosts) => (hosts, param("port")),
        None if host_spec.is_empty() => match std::env::var("PGHOST") {
            Ok(hosts) => (
                hosts,
                param("port").or_else(|| std::env::var("PGPORT").ok()),
            ),
            Err(_) => return Ok(None),
        },
        None => return Ok(None),
    };
    let ports: Vec<&str> = ports
        .as_deref()
        .map_or_else(Vec::new, |p| p.split(',').map(str::trim).collect());
    if !hosts.contains(',') && ports.len() <= 1 {
        return Ok(None);
    }
    let hosts = split_list(&hosts, &ports, false)?;
    let urls = hosts
        .into_iter()
        .map(|host| {
            let mut one = parsed.clone();
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| k != "host" && k != "port")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            {
                let mut query = one.query_pairs_mut();
                query.clear();
                query.extend_pairs(kept);
                query.append_pair("host", &host.host);
                if let Some(port) = host.port {
                    query.append_pair("port", &port.to_string());
                }
            }
            one.to_string()
        })
        .collect();
    Ok(Some(urls))
}

/// The URL of the list's first host (the URL itself when it names one): what the rest of the
/// settings (user, parameters) are read from, as `url::Url` cannot parse an authority list.
pub(crate) fn first_url(url: &str) -> String {
    match per_host_urls(url) {
        Ok(Some(urls)) => urls.into_iter().next().unwrap_or_else(|| url.to_owned()),
        _ => url.to_owned(),
    }
}

/// One host of a list and its port, if given.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: Option<u16>,
}

impl Endpoint {
    fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

/// `db1,db2:5433,[::1]:5434,/run/postgresql` with `ports` given apart (none, one for all, or one
/// per host, as libpq). Outside a URL's authority (`in_authority` false) an entry with several
/// colons is a bare IPv6 address, as libpq reads `host=::1,db2`.
fn split_list(hosts: &str, ports: &[&str], in_authority: bool) -> Result<Vec<Endpoint>, ()> {
    let items: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if !(ports.len() <= 1 || ports.len() == items.len()) {
        return Err(());
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut endpoint = endpoint(item, in_authority)?;
            let given = ports.get(i).or(ports.first()).filter(|p| !p.is_empty());
            if let (None, Some(port)) = (endpoint.port, given) {
                endpoint.port = Some(port.parse().map_err(|_| ())?);
            }
            Ok(endpoint)
        })
        .collect()
}

fn endpoint(item: &str, in_authority: bool) -> Result<Endpoint, ()> {
    let (host, port) = if item.starts_with('/') || item.starts_with("%2F") {
        // A Unix socket folder: no port in it.
        (item, None)
    } else if !in_authority && item.matches(':').count() > 1 && !item.starts_with('[') {
        // A bare IPv6 address (`::1`, `fe80::a`): its port comes from the port list.
        (item, None)
    } else if let Some(v6) = item.strip_prefix('[') {
        let (address, after) = v6.split_once(']').ok_or(())?;
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':').ok_or(())?),
        };
        (&item[..address.len() + 2], port)
    } else {
        match item.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (item, None),
        }
    };
    if host.is_empty() {
        return Err(());
    }
    let port = port.map(|p| p.parse::<u16>().map_err(|_| ())).transpose()?;
    Ok(Endpoint {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_is_not_a_list() {
        assert_eq!(per_host_urls("postgres://u:p@db1:5432/mes"), Ok(None));
        assert_eq!(
            per_host_urls("postgres://u@/mes?host=db1&port=5432"),
            Ok(None)
        );
        assert_eq!(per_host_urls("not a url"), Ok(None));
    }

    #[test]
    fn hosts_in_the_authority_keep_user_password_database_and_parameters() {
        let urls =
            per_host_urls("postgres://u:p%40ss@db1:5432,db2,[::1]:5434/mes?sslmode=verify-full")
                .unwrap()
                .unwrap();
        assert_eq!(
            urls,
            [
                "postgres://u:p%40ss@db1:5432/mes?sslmode=verify-full",
                "postgres://u:p%40ss@db2/mes?sslmode=verify-full",
                "postgres://u:p%40ss@[::1]:5434/mes?sslmode=verify-full",
            ]
        );
    }

    #[test]
    fn hosts_and_ports_as_parameters() {
        let urls = per_host_urls("postgres:///mes?host=db1,db2&port=5432,5433&sslmode=require")
            .unwrap()
            .unwrap();
        assert_eq!(
            urls,
            [
                "postgres:///mes?sslmode=require&host=db1&port=5432",
                "postgres:///mes?sslmode=require&host=db2&port=5433",
            ]
        );
        // Bare IPv6 addresses take their ports from the list, as libpq reads them.
        let urls = per_host_urls("postgres://?host=::1,fe80::a&port=5432,5433")
            .unwrap()
            .unwrap();
        assert_eq!(
            urls,
            [
                "postgres://?host=%3A%3A1&port=5432",
                "postgres://?host=fe80%3A%3Aa&port=5433"
            ]
        );
        // One port for all, and a port written with its host.
        let urls = per_host_urls("postgres://?host=db1,db2:6000&port=5432")
            .unwrap()
            .unwrap();
        assert_eq!(
            urls,
            [
                "postgres://?host=db1&port=5432",
                "postgres://?host=db2&port=6000"
            ]
        );
    }

    #[test]
    fn malformed_lists_are_refused() {
        for bad in [
            "postgres://u@db1,,db2/mes",
            "postgres://u@db1:x,db2/mes",
            "postgres://u@db1:70000,db2/mes",
            "postgres://?host=db1,db2&port=1,2,3",
            "postgres://u@[::1,db2/mes",
        ] {
            assert_eq!(per_host_urls(bad), Err(()), "{bad}");
        }
    }
}
