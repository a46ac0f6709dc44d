//! Packet crafting (in progress).
