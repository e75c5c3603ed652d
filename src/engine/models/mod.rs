//! One file per architecture, each written against `Linear` and the shared layers.

pub mod bert;
