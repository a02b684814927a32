//! `terraform_data` estates for the scaling benchmarks, in HCL that Terraform runs unchanged:
//! a chain (each resource's input holds its parent's `output.name`), a fan-out (all children
//! of one root), and the nested variant (each input holds its parent's whole `output`, so
//! values are N levels deep).

use std::fmt::Write as _;

pub fn chain(n: usize) -> String {
    let mut out = String::with_capacity(n * 120);
    out.push_str("resource \"terraform_data\" \"r0\" {\n  input = { name = \"r0\" }\n}\n");
    for i in 1..n {
        let _ = write!(
            out,
            "\nresource \"terraform_data\" \"r{i}\" {{\n  input = {{ name = \"r{i}\", parent = terraform_data.r{p}.output.name }}\n}}\n",
            p = i - 1
        );
    }
    out
}

pub fn fan_out(n: usize) -> String {
    let mut out = String::with_capacity(n * 120);
    out.push_str("resource \"terraform_data\" \"root\" {\n  input = { name = \"root\" }\n}\n");
    for i in 0..n.saturating_sub(1) {
        let _ = write!(
            out,
            "\nresource \"terraform_data\" \"r{i}\" {{\n  input = {{ name = \"r{i}\", parent = terraform_data.root.output.name }}\n}}\n"
        );
    }
    out
}

pub fn nested_chain(n: usize) -> String {
    let mut out = String::with_capacity(n * 120);
    out.push_str("resource \"terraform_data\" \"r0\" {\n  input = { name = \"r0\" }\n}\n");
    for i in 1..n {
        let _ = write!(
            out,
            "\nresource \"terraform_data\" \"r{i}\" {{\n  input = {{ name = \"r{i}\", parent = terraform_data.r{p}.output }}\n}}\n",
            p = i - 1
        );
    }
    out
}
