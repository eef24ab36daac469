//! Development tasks: generate and check schemas/ and the book's reference pages
