//! Resource types the engine implements itself, without a provider: `terraform_data`.

/// Whether `type_name` is built into the engine.
pub fn is_builtin(type_name: &str) -> bool {
    type_name == "terraform_data"
}
