//! pexspec: deploy Pexip Infinity on Oracle Cloud Infrastructure from one declarative YAML file
