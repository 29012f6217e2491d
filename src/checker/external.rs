//! Histories from outside, for the model checker: Jepsen's logs and histories of a register
//! with compare-and-set (as Porcupine reads them), and a JSON lines format of our own.
//!
//! Three shapes are read, told apart by their first line:
//!
//! - **Jepsen log lines**: `INFO  jepsen.util - 3\t:invoke\t:cas\t[3 0]` (process, type, f,
//!   value; tabs or spaces).
//! - **Jepsen history maps** (EDN): `{:process 0, :type :invoke, :f :read, :value nil}`.
//! - **JSON lines**: `{"process": 0, "type": "invoke", "f": "write", "value": 3, "key": "x"}`;
//!   `key` is optional (one register when absent), values are numbers, strings or null, a
//!   cas's value is `[from, to]`, and `time` (any unit) is optional — without it, the line
//!   order is the time order.
//!
//! Each operation is an `invoke` followed, for the same process, by its completion:
//! - `ok`: it happened; a read's value is what it returned (`nil`/null: absent);
//! - `fail`: a read or write that certainly did not happen; a `cas` that answered false — its
//!   compare found another value (Jepsen's etcd client, and Porcupine, read it so);
//! - `info`, or no completion at all: outcome unknown; it may take effect any time after its
//!   invocation, or never. A read whose answer was lost says nothing and is dropped.

use super::model::{Cond, Effect, Operation, Value};
use std::collections::BTreeMap;

/// A parse error with the line it was found on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One line of a history, whatever its shape.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    process: u64,
    kind: Kind,
    f: F,
    key: String,
    value: Arg,
    time: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
}

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Nil,
    One(String),
    Two(Value, Value),
    /// Anything else (`:timed-out`).
    Other,
}

/// Reads a history in any of the three shapes into operations for [`super::model::check`].
pub fn parse(text: &str) -> Result<Vec<Operation>, ParseError> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let parse_line: fn(&str) -> Result<Option<Line>, String> = if first.starts_with("{\"") {
        json_line
    } else if first.starts_with('{') {
        edn_line
    } else {
        jepsen_log_line
    };
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match parse_line(raw) {
            Ok(Some(line)) => lines.push((i + 1, line)),
            Ok(None) => {}
            Err(message) => return Err(ParseError { line: i + 1, message }),
        }
    }
    if lines.is_empty() {
        return Err(ParseError { line: 1, message: "no operations found".into() });
    }
    pair(lines)
}

/// Pairs each invocation with its process's next completion.
fn pair(lines: Vec<(usize, Line)>) -> Result<Vec<Operation>, ParseError> {
    let mut open: BTreeMap<u64, (usize, Line, u64)> = BTreeMap::new();
    let mut ops = Vec::new();
    for (at, (number, line)) in lines.into_iter().enumerate() {
        let time = line.time.unwrap_or(at as u64);
        if line.kind == Kind::Invoke {
            if let Some((earlier, _, _)) = open.get(&line.process) {
                let message =
                    format!("process {} invokes again while its invocation on line {earlier} is open", line.process);
                return Err(ParseError { line: number, message });
            }
            open.insert(line.process, (number, line, time));
            continue;
        }
        let Some((invoked_on, invoke, invoke_time)) = open.remove(&line.process) else {
            let message = format!("process {} completes an operation it never invoked", line.process);
            return Err(ParseError { line: number, message });
        };
        if invoke.f != line.f {
            let message = format!(
                "process {} invoked {:?} on line {invoked_on} but completes {:?}",
                line.process, invoke.f, line.f
            );
            return Err(ParseError { line: number, message });
        }
        let ret = match line.kind {
            Kind::Info => None,
            _ => Some(time),
        };
        if let Some(op) = operation(invoked_on as u64, &invoke, &line, invoke_time, ret)
            .map_err(|message| ParseError { line: number, message })?
        {
            ops.push(op);
        }
    }
    for (_, (invoked_on, invoke, invoke_time)) in open {
        let unknown = Line { kind: Kind::Info, ..invoke.clone() };
        if let Some(op) = operation(invoked_on as u64, &invoke, &unknown, invoke_time, None)
            .map_err(|message| ParseError { line: invoked_on, message })?
        {
            ops.push(op);
        }
    }
    Ok(ops)
}

/// The model's operation for an invocation and its completion; `None` when it takes no part.
fn operation(id: u64, invoke: &Line, done: &Line, time: u64, ret: Option<u64>) -> Result<Option<Operation>, String> {
    let value = |arg: &Arg| -> Result<Value, String> {
        match arg {
            Arg::Nil => Ok(None),
            Arg::One(v) => Ok(Some(v.clone())),
            other => Err(format!("expected one value, found {other:?}")),
        }
    };
    let cas_args = || match (&invoke.value, &done.value) {
        (Arg::Two(a, b), _) | (_, Arg::Two(a, b)) => Ok((a.clone(), b.clone())),
        _ => Err("a cas needs [from to]".to_string()),
    };
    let (conds, effect) = match (invoke.f, done.kind) {
        (F::Read, Kind::Ok) => (vec![Cond::Eq(value(&done.value)?)], Effect::Keep),
        (F::Read, Kind::Fail | Kind::Info | Kind::Invoke) | (F::Write, Kind::Fail) => return Ok(None),
        (F::Write, _) => (vec![], Effect::Set(value(&invoke.value)?)),
        (F::Cas, Kind::Ok) => {
            let (from, to) = cas_args()?;
            (vec![Cond::Eq(from)], Effect::Set(to))
        }
        (F::Cas, Kind::Fail) => (vec![Cond::Ne(cas_args()?.0)], Effect::Keep),
        (F::Cas, _) => {
            let (from, to) = cas_args()?;
            (vec![], Effect::SetIf { from, to })
        }
    };
    Ok(Some(Operation { id, client: invoke.process, key: invoke.key.clone(), conds, effect, invoke: time, ret }))
}

fn kind_of(word: &str) -> Result<Kind, String> {
    match word.trim_start_matches(':') {
        "invoke" => Ok(Kind::Invoke),
        "ok" => Ok(Kind::Ok),
        "fail" => Ok(Kind::Fail),
        "info" => Ok(Kind::Info),
        other => Err(format!("unknown type {other:?} (expected invoke, ok, fail or info)")),
    }
}

fn f_of(word: &str) -> Result<F, String> {
    match word.trim_start_matches(':') {
        "read" => Ok(F::Read),
        "write" => Ok(F::Write),
        "cas" => Ok(F::Cas),
        other => Err(format!("unknown operation {other:?} (expected read, write or cas)")),
    }
}

/// `nil`, `3`, `"s"`, `[3 0]`, `[3, 0]`, `:timed-out`.
fn arg_of(text: &str) -> Arg {
    let text = text.trim();
    let scalar = |t: &str| -> Value {
        let t = t.trim().trim_matches('"');
        (t != "nil" && t != "null").then(|| t.to_string())
    };
    if text == "nil" || text == "null" || text.is_empty() {
        Arg::Nil
    } else if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let parts: Vec<&str> = inner.split([' ', ',']).filter(|p| !p.is_empty()).collect();
        match parts[..] {
            [a, b] => Arg::Two(scalar(a), scalar(b)),
            _ => Arg::Other,
        }
    } else if text.starts_with(':') {
        Arg::Other
    } else {
        Arg::One(text.trim_matches('"').to_string())
    }
}

/// `INFO  jepsen.util - 3\t:invoke\t:cas\t[3 0]` (tab-separated); other log lines (the nemesis) are skipped.
fn jepsen_log_line(raw: &str) -> Result<Option<Line>, String> {
    let Some((_, rest)) = raw.split_once(" - ") else { return Ok(None) };
    let mut words = rest.split_whitespace();
    let (Some(process), Some(kind), Some(f)) = (words.next(), words.next(), words.next()) else {
        return Ok(None);
    };
    let Ok(process) = process.parse::<u64>() else { return Ok(None) }; // :nemesis
    let value: Vec<&str> = words.collect();
    Ok(Some(Line {
        process,
        kind: kind_of(kind)?,
        f: f_of(f)?,
        key: String::new(),
        value: arg_of(&value.join(" ")),
        time: None,
    }))
}

/// `{:process 0, :type :invoke, :f :read, :value nil}`.
fn edn_line(raw: &str) -> Result<Option<Line>, String> {
    let body = raw.trim().strip_prefix('{').and_then(|b| b.strip_suffix('}')).ok_or("expected a {…} map")?;
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    // Keys are keywords; a value runs to the next ", :" (brackets keep their commas).
    let mut rest = body.trim();
    while let Some(after) = rest.strip_prefix(':') {
        let (name, tail) = after.split_once(char::is_whitespace).ok_or("a key without a value")?;
        let tail = tail.trim_start();
        let mut depth = 0;
        let mut end = tail.len();
        for (i, c) in tail.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ',' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        fields.insert(name, tail[..end].trim().to_string());
        rest = tail[end..].trim_start_matches(',').trim();
    }
    let get = |k: &str| fields.get(k).ok_or(format!("missing :{k}"));
    let Ok(process) = get("process")?.parse::<u64>() else { return Ok(None) }; // :nemesis
    Ok(Some(Line {
        process,
        kind: kind_of(get("type")?)?,
        f: f_of(get("f")?)?,
        key: fields.get("key").map(|k| k.trim_matches('"').to_string()).unwrap_or_default(),
        value: fields.get("value").map_or(Arg::Nil, |v| arg_of(v)),
        time: fields.get("time").and_then(|t| t.parse().ok()),
    }))
}

/// The fields a JSON line may have: ours, and Jepsen's `index` and `error`, read and ignored.
const JSON_LINE_FIELDS: [&str; 8] = ["process", "type", "f", "key", "value", "time", "index", "error"];

/// `{"process": 0, "type": "invoke", "f": "write", "value": 3}`.
fn json_line(raw: &str) -> Result<Option<Line>, String> {
    let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(unknown) = v.as_object().and_then(|o| o.keys().find(|k| !JSON_LINE_FIELDS.contains(&k.as_str()))) {
        return Err(format!("unknown field \"{unknown}\" (a line has {})", JSON_LINE_FIELDS[..6].join(", ")));
    }
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).ok_or(format!("missing \"{k}\""));
    let process = v.get("process").and_then(|p| p.as_u64()).ok_or("missing \"process\" (a number)")?;
    let scalar = |x: &serde_json::Value| -> Value {
        match x {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let value = match v.get("value") {
        None | Some(serde_json::Value::Null) => Arg::Nil,
        Some(serde_json::Value::Array(a)) if a.len() == 2 => Arg::Two(scalar(&a[0]), scalar(&a[1])),
        Some(serde_json::Value::Array(_)) => return Err("a cas value is [from, to]".into()),
        Some(x) => match scalar(x) {
            Some(s) => Arg::One(s),
            None => Arg::Nil,
        },
    };
    Ok(Some(Line {
        process,
        kind: kind_of(text("type")?)?,
        f: f_of(text("f")?)?,
        key: v.get("key").and_then(|k| k.as_str()).unwrap_or_default().to_string(),
        value,
        time: v.get("time").and_then(|t| t.as_u64()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::model::{check, Limits, Outcome};

    fn verdict(text: &str) -> Outcome {
        check(&parse(text).expect("parses"), Limits::default()).outcome().clone()
    }

    #[test]
    fn jepsen_log_lines_are_read_as_porcupine_reads_them() {
        let log = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                   INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                   INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
                   INFO  jepsen.util - 1   :fail   :cas    [1 2]\n\
                   INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 2\t:ok\t:read\t1\n\
                   INFO  jepsen.util - 3\t:invoke\t:write\t5\n\
                   INFO  jepsen.util - 3\t:info\t:write\t:timed-out\n";
        let ops = parse(log).unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[1].conds, vec![Cond::Ne(Some("1".into()))], "a failed cas found another value");
        assert_eq!(ops[3].ret, None, ":info is outcome unknown");
        // The failed cas says the register did not hold 1, yet it held 1 throughout.
        assert!(matches!(verdict(log), Outcome::NotLinearizable(_)));
    }

    #[test]
    fn edn_maps_and_json_lines_give_the_same_operations() {
        let edn =
            "{:process 0, :type :invoke, :f :cas, :value [0 1]}\n{:process 0, :type :ok, :f :cas, :value [0 1]}\n\
                   {:process 1, :type :invoke, :f :read, :value nil}\n{:process 1, :type :ok, :f :read, :value 1}";
        let json = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"cas\", \"value\": [0, 1]}\n\
                    {\"process\": 0, \"type\": \"ok\", \"f\": \"cas\", \"value\": [0, 1]}\n\
                    {\"process\": 1, \"type\": \"invoke\", \"f\": \"read\", \"value\": null}\n\
                    {\"process\": 1, \"type\": \"ok\", \"f\": \"read\", \"value\": 1}";
        assert_eq!(parse(edn).unwrap(), parse(json).unwrap());
        // The cas found the register absent, not 0.
        assert!(matches!(verdict(edn), Outcome::NotLinearizable(_)));
    }

    #[test]
    fn an_operation_left_open_is_of_unknown_outcome() {
        let json = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": \"a\", \"key\": \"x\"}\n\
                    {\"process\": 1, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"x\"}\n\
                    {\"process\": 1, \"type\": \"ok\", \"f\": \"read\", \"value\": \"a\", \"key\": \"x\"}";
        let ops = parse(json).unwrap();
        assert_eq!((ops[1].key.as_str(), ops[1].ret), ("x", None));
        assert_eq!(verdict(json), Outcome::Linearizable);
    }

    #[test]
    fn bad_input_is_refused_with_its_line() {
        let err = parse("{\"process\": 0, \"type\": \"ok\", \"f\": \"read\", \"value\": 1}").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("never invoked"), "{err}");
        let err = parse("{:process 0, :type :invoke, :f :frob, :value 1}").unwrap_err();
        assert!(err.message.contains("frob"), "{err}");
        assert!(parse("").is_err());
        assert!(parse("{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}\n{nope").unwrap_err().line == 2);
        // A misspelt field is named, not ignored; Jepsen's own `index` and `error` are read.
        let err = parse("{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\", \"kye\": \"x\"}").unwrap_err();
        assert!(err.message.contains("unknown field \"kye\""), "{err}");
        let jepsen = "{\"index\": 0, \"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 1}\n\
                      {\"index\": 1, \"process\": 0, \"type\": \"fail\", \"f\": \"write\", \"value\": 1, \"error\": \"x\"}";
        assert!(parse(jepsen).is_ok());
    }
}
