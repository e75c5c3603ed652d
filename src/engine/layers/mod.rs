//! The building blocks model files are written with.

pub mod linear;
