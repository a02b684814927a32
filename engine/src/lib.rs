//! netform engine
