"""Message catalogue for error `details` in en_US and zh_CN.

Error `code` and `description` stay as ZStack has them (English only); the
`details` text follows the server locale or the request's Accept-Language.
Each entry is a `str.format` template with named fields.
"""

from __future__ import annotations

import os

LOCALES = ("en_US", "zh_CN")
DEFAULT_LOCALE = "en_US"

MESSAGES: dict[str, dict[str, str]] = {
    "unknown_field": {
        "en_US": "inventory class[class {inventory_class}] not having field[{field}]; "
                 "queryable fields are {fields}",
        "zh_CN": "资源类[class {inventory_class}]没有字段[{field}]；可查询的字段为 {fields}",
    },
    "unknown_expansion": {
        "en_US": "no expand query[{name}] found on {inventory_class}; "
                 "available expansions are {expansions}",
        "zh_CN": "{inventory_class} 上找不到跨表查询[{name}]；可用的跨表查询为 {expansions}",
    },
    "cross_table_not_supported": {
        "en_US": "cross-table condition[{condition}] is not supported yet; "
                 "query with the resource's own fields",
        "zh_CN": "暂不支持跨表条件[{condition}]；请使用资源自身的字段查询",
    },
    "not_sortable": {
        "en_US": "cannot sort by field[{field}]; sortable fields are {fields}",
        "zh_CN": "无法按字段[{field}]排序；可排序的字段为 {fields}",
    },
    "empty_fields": {
        "en_US": "parameter[fields] is empty; give a comma-separated list of fields, "
                 "for example fields=uuid,createDate",
        "zh_CN": "参数[fields]为空；请给出以逗号分隔的字段列表，例如 fields=uuid,createDate",
    },
    "unknown_reply_field": {
        "en_US": "parameter[fields] names an unknown field[{field}]; valid fields are {fields}",
        "zh_CN": "参数[fields]中的字段[{field}]不存在；有效字段为 {fields}",
    },
    "negative_paging": {
        "en_US": "parameter[{name}] must not be negative, but is {value}",
        "zh_CN": "参数[{name}]不能为负数，当前值为 {value}",
    },
    "bad_timestamp": {
        "en_US": "value[{value}] of field[{field}] is not a valid timestamp; "
                 "accepted forms: {forms}",
        "zh_CN": "字段[{field}]的值[{value}]不是有效的时间；可接受的格式：{forms}",
    },
    "bad_number": {
        "en_US": "value[{value}] of field[{field}] is not a valid number; "
                 "give a decimal number such as 1024",
        "zh_CN": "字段[{field}]的值[{value}]不是有效的数字；请给出十进制数字，例如 1024",
    },
    "bad_boolean": {
        "en_US": "value[{value}] of field[{field}] is not a boolean; give true or false",
        "zh_CN": "字段[{field}]的值[{value}]不是布尔值；请给出 true 或 false",
    },
    "like_on_timestamp": {
        "en_US": "operator[{operator}] cannot be used on timestamp field[{field}]; "
                 "LIKE applies to text fields, use >, >=, <, <= for time ranges",
        "zh_CN": "时间字段[{field}]不能使用操作符[{operator}]；LIKE 只适用于文本字段，"
                 "时间范围请使用 >、>=、<、<=",
    },
    "like_on_non_text": {
        "en_US": "operator[{operator}] cannot be used on non-text field[{field}]; "
                 "LIKE applies to text fields",
        "zh_CN": "非文本字段[{field}]不能使用操作符[{operator}]；LIKE 只适用于文本字段",
    },
    "body_not_object": {
        "en_US": "the request body is not a JSON object; send a JSON object such as {example}",
        "zh_CN": "请求体不是 JSON 对象；请发送 JSON 对象，例如 {example}",
    },
    "missing_body_field": {
        "en_US": "field[{field}] is required in the request body",
        "zh_CN": "请求体缺少必填字段[{field}]",
    },
    "wrong_body_type": {
        "en_US": "field[{field}] must be of type {expected}, but is of type {actual}",
        "zh_CN": "字段[{field}]必须是{expected}，实际为{actual}",
    },
    "wrong_credentials": {
        "en_US": "wrong account name or password",
        "zh_CN": "账户名或密码错误",
    },
    "max_sessions": {
        "en_US": "account[uuid:{account_uuid}] already has {limit} active sessions; "
                 "log out sessions it no longer uses or wait for them to expire",
        "zh_CN": "账户[uuid:{account_uuid}]的活动会话已达上限 {limit} 个；"
                 "请注销不再使用的会话，或等待其过期",
    },
    "resource_not_found": {
        "en_US": "resource[uuid:{uuid}] not found",
        "zh_CN": "资源[uuid:{uuid}]不存在",
    },
    "reference_not_found": {
        "en_US": "field[{field}] names {resource}[uuid:{uuid}], which does not exist; "
                 "create it first or give the uuid of an existing one",
        "zh_CN": "字段[{field}]指向的{resource}[uuid:{uuid}]不存在；请先创建，或给出已有资源的 uuid",
    },
    "too_long": {
        "en_US": "field[{field}] is {length} characters long, more than the maximum of {limit}",
        "zh_CN": "字段[{field}]长度为 {length} 个字符，超过上限 {limit}",
    },
    "bad_choice": {
        "en_US": "field[{field}] is {value}, which is not one of {choices}",
        "zh_CN": "字段[{field}]的值 {value} 不在可选值 {choices} 之中",
    },
    "out_of_range": {
        "en_US": "field[{field}] is {value}, outside the range {low} to {high}",
        "zh_CN": "字段[{field}]的值 {value} 超出范围 {low} 到 {high}",
    },
    "empty_required": {
        "en_US": "field[{field}] must not be empty",
        "zh_CN": "字段[{field}]不能为空",
    },
    "bad_resource_uuid": {
        "en_US": "resourceUuid[{uuid}] is not a uuid; give 32 hexadecimal characters "
                 "without dashes, or omit it",
        "zh_CN": "resourceUuid[{uuid}]不是有效的 uuid；请给出 32 位不带连字符的十六进制字符，或不填写",
    },
    "resource_uuid_in_use": {
        "en_US": "resourceUuid[{uuid}] is already used by another resource; "
                 "give a new uuid or omit it",
        "zh_CN": "resourceUuid[{uuid}]已被其他资源使用；请换一个新的 uuid，或不填写",
    },
    "resource_uuid_conflict": {
        "en_US": "resourceUuid[{uuid}] already exists with different content (field[{field}] "
                 "differs); a retry must send the same content, a new resource needs a new uuid",
        "zh_CN": "resourceUuid[{uuid}]已存在且内容不同（字段[{field}]不一致）；重试时请发送相同内容，"
                 "新资源请使用新的 uuid",
    },
    "model_is_own_source": {
        "en_US": "modelUuid and sourceModelUuid are both {uuid}; a trained model cannot be "
                 "its own base model",
        "zh_CN": "modelUuid 与 sourceModelUuid 都是 {uuid}；训练出的模型不能是它自己的基础模型",
    },
    "bad_tag_list": {
        "en_US": "field[{field}] must be a list of strings",
        "zh_CN": "字段[{field}]必须是字符串列表",
    },
    "admin_only": {
        "en_US": "operation[API:{api}] is allowed only for the admin account; "
                 "ask the admin to perform it",
        "zh_CN": "操作[API:{api}]只允许 admin 账户执行；请联系管理员操作",
    },
    "not_owner": {
        "en_US": "operation[API:{api}] is denied: account[uuid:{account_uuid}] does not own "
                 "resource[uuid:{uuid}]; ask its owner or the admin",
        "zh_CN": "操作[API:{api}]被拒绝：账户[uuid:{account_uuid}]不是资源[uuid:{uuid}]的所有者；"
                 "请联系所有者或管理员",
    },
    "account_name_in_use": {
        "en_US": "account name[{name}] is already used; choose another name",
        "zh_CN": "账户名[{name}]已被使用；请换一个名称",
    },
    "admin_not_deletable": {
        "en_US": "the admin account[uuid:{uuid}] cannot be deleted",
        "zh_CN": "admin 账户[uuid:{uuid}]不能删除",
    },
    "admin_not_renamable": {
        "en_US": "the admin account[uuid:{uuid}] keeps the name admin; "
                 "change its password or description instead",
        "zh_CN": "admin 账户[uuid:{uuid}]的名称必须为 admin；可以修改其密码或描述",
    },
    "account_not_found": {
        "en_US": "account[uuid:{uuid}] not found; query accounts for valid uuids",
        "zh_CN": "账户[uuid:{uuid}]不存在；请查询账户获取有效的 uuid",
    },
    "bad_resource_type": {
        "en_US": "field[{field}] is {value}, which is not one of {choices}",
        "zh_CN": "字段[{field}]的值 {value} 不在可选值 {choices} 之中",
    },
    "no_share_target": {
        "en_US": "give accountUuids, toPublic true, or both",
        "zh_CN": "请给出 accountUuids、将 toPublic 设为 true，或两者都给出",
    },
    "value_rejected_by_database": {
        "en_US": "the database rejected a value of the request: {reason}",
        "zh_CN": "数据库拒绝了请求中的一个值：{reason}",
    },
    "nul_character": {
        "en_US": "field[{field}] contains a NUL character (U+0000) at position {position}; "
                 "remove it, because stored text cannot contain NUL",
        "zh_CN": "字段[{field}]在位置 {position} 含有 NUL 字符 (U+0000)；请删除它，存储的文本不能包含 NUL",
    },
    "nul_in_condition": {
        "en_US": "the value of field[{field}] in condition[{condition}] contains a NUL character "
                 "(U+0000); remove it, because stored text cannot contain NUL",
        "zh_CN": "条件[{condition}]中字段[{field}]的值含有 NUL 字符 (U+0000)；请删除它，存储的文本不能包含 NUL",
    },
    "body_not_json": {
        "en_US": "the request body is not valid JSON ({reason}); send a JSON object such as "
                 "{example}",
        "zh_CN": "请求体不是有效的 JSON（{reason}）；请发送 JSON 对象，例如 {example}",
    },
}

# Localised names for the JSON types in `wrong_body_type`.
TYPE_NAMES: dict[str, dict[str, str]] = {
    "string": {"en_US": "string", "zh_CN": "字符串"},
    "object": {"en_US": "JSON object", "zh_CN": "JSON 对象"},
    "integer": {"en_US": "integer", "zh_CN": "整数"},
    "boolean": {"en_US": "boolean", "zh_CN": "布尔值"},
    "list": {"en_US": "list", "zh_CN": "列表"},
    "null": {"en_US": "null", "zh_CN": "null"},
    "number": {"en_US": "number", "zh_CN": "数字"},
}


def render(key: str, locale: str, **fields: object) -> str:
    """Format message `key` in `locale`, falling back to en_US."""
    templates = MESSAGES[key]
    template = templates.get(locale) or templates[DEFAULT_LOCALE]
    shown = {name: _java_text(value) for name, value in fields.items()}
    return template.format(**shown)


def _java_text(value: object) -> object:
    """Render lists as Java's `List.toString` does (`[a, b]`), as ZStack's messages show them."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return value


def normalize_locale(value: str | None) -> str | None:
    """Map `zh_CN`, `zh-CN`, `zh`, `en`, `en-US` and similar to a supported locale."""
    if not value:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en_US"
    return None


def locale_from_environment() -> str:
    """Return the locale of LC_ALL, LC_MESSAGES or LANG, the first one set; en_US otherwise.

    As in POSIX, the first variable that is set decides, even when it names a
    language without a translation here.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return normalize_locale(value) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> str | None:
    """Pick the supported locale with the highest weight in an Accept-Language header."""
    if not header:
        return None
    best: tuple[float, str] | None = None
    for part in header.split(","):
        tag, _, params = part.partition(";")
        locale = normalize_locale(tag)
        if locale is None:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if best is None or weight > best[0]:
            best = (weight, locale)
    return best[1] if best and best[0] > 0 else None
