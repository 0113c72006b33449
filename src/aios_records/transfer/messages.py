"""Messages of `aios-records import` and `export` in en_US and zh_CN.

A key missing here is looked up in the API's catalogue (`aios_records.i18n`),
so a row problem found by the write validation reads as it does in an API error.
"""

from __future__ import annotations

from .. import i18n

MESSAGES: dict[str, dict[str, str]] = {
    "row_problem": {
        "en_US": "{file}: row {row}: {problem}",
        "zh_CN": "{file}：第 {row} 行：{problem}",
    },
    "missing_field": {
        "en_US": "field[{field}] is missing",
        "zh_CN": "缺少字段[{field}]",
    },
    "not_a_uuid": {
        "en_US": "field[{field}] is {value}, which is not a uuid; "
                 "a uuid is 32 hexadecimal characters without dashes",
        "zh_CN": "字段[{field}]的值 {value} 不是 uuid；uuid 是 32 位不带连字符的十六进制字符",
    },
    "row_not_object": {
        "en_US": "the row is a {actual}, not a JSON object",
        "zh_CN": "该行是{actual}，不是 JSON 对象",
    },
    "more_problems": {
        "en_US": "{file}: further problems not listed: {count}",
        "zh_CN": "{file}：另有 {count} 个问题未列出",
    },
    "imported": {
        "en_US": "{file}: {resource} rows imported: {imported}",
        "zh_CN": "{file}：已导入 {resource} {imported} 行",
    },
    "imported_skipping": {
        "en_US": "{file}: {resource} rows imported: {imported}, bad rows skipped: {skipped}",
        "zh_CN": "{file}：已导入 {resource} {imported} 行，跳过有问题的 {skipped} 行",
    },
    "rejected": {
        "en_US": "{file}: bad rows: {bad}, so nothing was imported from this file; fix them, "
                 "or give --skip-bad-rows to import the other rows",
        "zh_CN": "{file}：有 {bad} 行有问题，因此该文件未导入任何数据；请修正这些行，"
                 "或加上 --skip-bad-rows 只导入其余的行",
    },
    "no_inventories": {
        "en_US": "{file}: the inventories list is empty; nothing to import",
        "zh_CN": "{file}：inventories 列表为空，没有可导入的数据",
    },
    "invalid_json": {
        "en_US": "{file}: invalid JSON after {rows} complete inventories: {error}; "
                 "nothing was imported from this file",
        "zh_CN": "{file}：在 {rows} 个完整的 inventory 之后 JSON 无效：{error}；"
                 "该文件未导入任何数据",
    },
    "not_a_reply": {
        "en_US": "{file}: not a query reply; the file must hold a JSON object with an "
                 "\"inventories\" list, as QueryTrainedModelRecord and the other query APIs "
                 "return; nothing was imported from this file",
        "zh_CN": "{file}：不是查询 API 的返回结果；文件必须是含有 \"inventories\" 列表的 JSON 对象，"
                 "即 QueryTrainedModelRecord 等查询 API 返回的格式；该文件未导入任何数据",
    },
    "cannot_read": {
        "en_US": "{file}: cannot read the file: {error}",
        "zh_CN": "{file}：无法读取文件：{error}",
    },
    "database_failed": {
        "en_US": "{file}: the database write failed: {error}; nothing was imported from "
                 "this file",
        "zh_CN": "{file}：写入数据库失败：{error}；该文件未导入任何数据",
    },
    "type_ambiguous": {
        "en_US": "{file}: cannot tell the resource type from the fields of row 1 ({fields}), "
                 "because they fit {candidates}; give --type",
        "zh_CN": "{file}：无法根据第 1 行的字段（{fields}）判断资源类型，"
                 "它们同时符合 {candidates}；请用 --type 指定",
    },
    "type_unknown": {
        "en_US": "{file}: the fields of row 1 ({fields}) fit no resource type; "
                 "give --type with one of {types}",
        "zh_CN": "{file}：第 1 行的字段（{fields}）不符合任何资源类型；"
                 "请用 --type 指定，可选值为 {types}",
    },
    "type_first_row_not_object": {
        "en_US": "{file}: cannot tell the resource type, because row 1 is a {actual}, "
                 "not a JSON object; give --type",
        "zh_CN": "{file}：无法判断资源类型，因为第 1 行是{actual}，不是 JSON 对象；"
                 "请用 --type 指定",
    },
    "schema_mixed": {
        "en_US": "{file}: the schema names several inventory classes ({classes}); "
                 "a file must hold one resource type, so split it by type",
        "zh_CN": "{file}：schema 中有多个资源类（{classes}）；一个文件只能包含一种资源，"
                 "请按类型拆分文件",
    },
    "schema_unknown_class": {
        "en_US": "{file}: the schema names inventory class {name}, which this service does "
                 "not store; the stored classes are {classes}",
        "zh_CN": "{file}：schema 中的资源类 {name} 不是本服务保存的类型；"
                 "本服务保存的类型为 {classes}",
    },
    "type_conflict": {
        "en_US": "{file}: the schema names inventory class {name}, but --type is {resource}; "
                 "give the matching --type or none",
        "zh_CN": "{file}：schema 中的资源类为 {name}，但 --type 为 {resource}；"
                 "请给出一致的 --type，或不指定",
    },
    "ignored_fields": {
        "en_US": "{file}: ignored fields that {resource} does not have: {fields}",
        "zh_CN": "{file}：已忽略 {resource} 没有的字段：{fields}",
    },
    "exported": {
        "en_US": "{path}: {resource} rows written: {count}",
        "zh_CN": "{path}：已写入 {resource} {count} 行",
    },
}


def render(key: str, locale: str, **fields: object) -> str:
    """Format message `key` in `locale`, from this catalogue or else the API's."""
    templates = MESSAGES.get(key)
    if templates is None:
        return i18n.render(key, locale, **fields)
    template = templates.get(locale) or templates[i18n.DEFAULT_LOCALE]
    return template.format(**{name: _text(value) for name, value in fields.items()})


def _text(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return value
