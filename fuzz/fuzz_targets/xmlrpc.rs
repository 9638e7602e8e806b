//! Any bytes as an XML-RPC request or response body: the reader returns
//! values, a fault or an error, never panics; and whatever it reads, written
//! back and read again, is the same (NaN aside, which equals nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisor::rpc::xmlrpc::{self, Value};

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok((method, params)) = xmlrpc::parse_call(data) {
        let again = xmlrpc::parse_call(&xmlrpc::write_call(&method, &params));
        let Ok((method2, params2)) = again else {
            panic!("our own call does not read back: {again:?}");
        };
        assert_eq!(method, method2);
        assert!(
            params.len() == params2.len() && params.iter().zip(&params2).all(|(a, b)| same(a, b)),
            "{params:?} != {params2:?}"
        );
    }
    match xmlrpc::parse_response(data) {
        Ok(Ok(value)) => {
            let again = xmlrpc::parse_response(&xmlrpc::write_response(&value));
            assert!(matches!(&again, Ok(Ok(v)) if same(v, &value)), "{value:?} -> {again:?}");
        }
        Ok(Err(fault)) => {
            let again = xmlrpc::parse_response(&xmlrpc::write_fault(&fault));
            assert!(matches!(&again, Ok(Err(f)) if *f == fault), "{fault:?} -> {again:?}");
        }
        Err(_) => {}
    }
});
