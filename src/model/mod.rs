//! The model: supervised processes and their automaton. Pure: no I/O, no
//! clock reads; the loop feeds it inputs and the time.

pub mod events;
pub mod listener;
pub mod output;
pub mod process;
