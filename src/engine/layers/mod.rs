//! The building blocks model files are written with.

pub mod attention;
pub mod linear;
pub mod lora;
pub mod mlp;
pub mod norm;
pub mod rope;
pub mod yarn;
