//! ARM emulator
