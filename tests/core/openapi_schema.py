"""Reading /openapi.json in tests: a schema with its `$ref`s to components replaced by the components themselves."""


def resolved(spec: dict, schema):
    """`schema` with every `$ref` inlined, and a nullable wrapper around one member (`anyOf: [X], nullable`)
    replaced by X: what the property holds when it is not null."""
    if isinstance(schema, list):
        return [resolved(spec, item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return resolved(spec, spec["components"]["schemas"][name])
    for wrapper in ("anyOf", "oneOf", "allOf"):
        members = schema.get(wrapper)
        if isinstance(members, list) and len(members) == 1:
            rest = {k: v for k, v in schema.items() if k != wrapper}
            return {**rest, **resolved(spec, members[0])}
    return {key: resolved(spec, value) for key, value in schema.items()}
