//! One file per architecture, each written against `Linear` and the shared layers, never branching on
//! the scheme; `decoder` holds what every decoder shares around its blocks.

pub mod bert;
pub mod blocks;
pub mod decoder;
pub mod gemma;
pub mod llama;
