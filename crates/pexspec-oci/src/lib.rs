//! OCI wire types, request signer, typed client and the OCI side of the Provider
