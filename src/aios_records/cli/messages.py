"""Messages of aios-cli in en_US and zh_CN, chosen by LC_ALL, LC_MESSAGES or LANG.

The server writes the error `details` itself, so the CLI requests the same
language through `Accept-Language`. Each entry is a `str.format`
template with named fields.
"""

from __future__ import annotations


from .. import i18n

MESSAGES: dict[str, dict[str, str]] = {
    # -- parsing ------------------------------------------------------------------
    "unterminated_quote": {
        "en_US": "The line has an unterminated {quote} quote; close it and run the command again.",
        "zh_CN": "命令行中的 {quote} 引号没有闭合；请补上引号后重新执行。",
    },
    "unknown_command": {
        "en_US": "Unknown command '{command}'. Type help to list the APIs and shell commands.",
        "zh_CN": "未知命令 '{command}'。输入 help 查看所有 API 和 shell 命令。",
    },
    "unknown_command_hint": {
        "en_US": "Unknown command '{command}'. Did you mean '{suggestion}'?",
        "zh_CN": "未知命令 '{command}'。您是否要输入 '{suggestion}'？",
    },
    "unknown_command_case": {
        "en_US": "Unknown command '{command}': API names are case-sensitive. "
                 "Did you mean '{suggestion}'?",
        "zh_CN": "未知命令 '{command}'：API 名称区分大小写。您是否要输入 '{suggestion}'？",
    },
    "no_operator": {
        "en_US": "'{condition}' is neither a query option nor a condition: it contains no "
                 "operator. Write field<operator>value with one of {operators}.",
        "zh_CN": "'{condition}' 既不是查询选项也不是查询条件：其中没有操作符。"
                 "请写成 字段<操作符>值，操作符可以是 {operators}。",
    },
    "option_after_api": {
        "en_US": "'{option}' is an aios-cli option, and options go before the API name, "
                 "as in: aios-cli {example} {api}",
        "zh_CN": "'{option}' 是 aios-cli 的选项，选项要写在 API 名称之前，例如：aios-cli {example} {api}",
    },
    "help_after_api": {
        "en_US": "'{option}' is an aios-cli option, not a parameter of {api}. To list the "
                 "parameters of {api}, run: aios-cli help {api}",
        "zh_CN": "'{option}' 是 aios-cli 的选项，不是 {api} 的参数。要查看 {api} 的参数，"
                 "请运行：aios-cli help {api}",
    },
    "option_after_api_output": {
        "en_US": "'{option}' is an aios-cli option, and options go before the API name, "
                 "as in: aios-cli {example} {api}. In the interactive shell, set the output "
                 "format with the output command instead, such as: output compact",
        "zh_CN": "'{option}' 是 aios-cli 的选项，选项要写在 API 名称之前，例如：aios-cli {example} "
                 "{api}。在交互式 shell 中，请改用 output 命令设置输出格式，例如：output compact",
    },
    "no_field": {
        "en_US": "The condition '{condition}' has no field name before '{operator}'.",
        "zh_CN": "条件 '{condition}' 在 '{operator}' 之前缺少字段名。",
    },
    "operator_in_value": {
        "en_US": "The condition '{condition}' would be split at '{operator}', because the server "
                 "splits at the first operator it finds, so the field would be '{field}'. "
                 "For a value that contains an operator, use ~= with a LIKE pattern and "
                 "write = as \\=.",
        "zh_CN": "条件 '{condition}' 会在 '{operator}' 处被拆开（服务器在找到的第一个操作符处拆分），"
                 "字段将变成 '{field}'。若值中含有操作符，请改用 ~= 和 LIKE 模式，并把 = 写成 \\=。",
    },
    "direction_without_sort": {
        "en_US": "sortDirection needs sortBy; give the field to sort by, "
                 "such as sortBy=createDate.",
        "zh_CN": "sortDirection 需要与 sortBy 一起使用；请给出排序字段，例如 sortBy=createDate。",
    },
    "bad_direction": {
        "en_US": "sortDirection must be asc or desc, not '{value}'.",
        "zh_CN": "sortDirection 只能是 asc 或 desc，不能是 '{value}'。",
    },
    "bad_sort_by": {
        "en_US": "sortBy must be a field name, not '{value}'; give the direction with "
                 "sortDirection=asc or sortDirection=desc.",
        "zh_CN": "sortBy 必须是字段名，不能是 '{value}'；排序方向请用 sortDirection=asc 或 "
                 "sortDirection=desc 指定。",
    },
    "not_a_parameter": {
        "en_US": "'{word}' is not a parameter of {api}; write name=value. "
                 "Type help {api} to list its parameters.",
        "zh_CN": "'{word}' 不是 {api} 的参数；请写成 名称=值。输入 help {api} 查看其参数。",
    },
    "unknown_parameter": {
        "en_US": "{api} has no parameter '{name}'; its parameters are {parameters}.",
        "zh_CN": "{api} 没有参数 '{name}'；可用的参数为 {parameters}。",
    },
    "missing_parameter": {
        "en_US": "{api} needs the parameter {name}, such as {name}=...",
        "zh_CN": "{api} 缺少参数 {name}，例如 {name}=...",
    },
    "duplicate_parameter": {
        "en_US": "The parameter {name} of {api} is given twice; give it once.",
        "zh_CN": "{api} 的参数 {name} 出现了两次；请只给出一次。",
    },
    "not_integer": {
        "en_US": "{name} must be an integer, not '{value}'.",
        "zh_CN": "{name} 必须是整数，不能是 '{value}'。",
    },
    "not_boolean": {
        "en_US": "{name} must be true or false, not '{value}'.",
        "zh_CN": "{name} 只能是 true 或 false，不能是 '{value}'。",
    },
    "too_many_arguments": {
        "en_US": "Too many arguments for {command}. Type help to see its usage.",
        "zh_CN": "{command} 的参数过多。输入 help 查看用法。",
    },
    # -- settings -----------------------------------------------------------------
    "config_unreadable": {
        "en_US": "Cannot read the config file {path}: {error}",
        "zh_CN": "无法读取配置文件 {path}：{error}",
    },
    "config_unknown_key": {
        "en_US": "The config file {path} has an unknown setting '{setting}'; "
                 "the settings are {keys}.",
        "zh_CN": "配置文件 {path} 中有未知的设置项 '{setting}'；可用的设置项为 {keys}。",
    },
    "bad_port": {
        "en_US": "{source}: the port must be an integer from 1 to 65535, not '{value}'.",
        "zh_CN": "{source}：端口必须是 1 到 65535 之间的整数，不能是 '{value}'。",
    },
    "bad_timeout": {
        "en_US": "{source}: the timeout must be a positive number of seconds, not '{value}'.",
        "zh_CN": "{source}：超时时间必须是正数（单位为秒），不能是 '{value}'。",
    },
    "bad_output": {
        "en_US": "{source}: the output format must be one of {formats}, not '{value}'.",
        "zh_CN": "{source}：输出格式必须是 {formats} 之一，不能是 '{value}'。",
    },
    "bad_host": {
        "en_US": "{source}: '{value}' is not a host name or IP address.",
        "zh_CN": "{source}：'{value}' 不是有效的主机名或 IP 地址。",
    },
    "bad_context_path": {
        "en_US": "{source}: '{value}' is not a URL path such as /zstack.",
        "zh_CN": "{source}：'{value}' 不是有效的 URL 路径，例如 /zstack。",
    },
    "bad_setting_type": {
        "en_US": "{source}: the setting {name} must be text, not {value!r}.",
        "zh_CN": "{source}：设置项 {name} 必须是文本，不能是 {value!r}。",
    },
    "unknown_option": {
        "en_US": "Unknown option {option}. Run aios-cli --help to list the options.",
        "zh_CN": "未知选项 {option}。运行 aios-cli --help 查看所有选项。",
    },
    "option_needs_value": {
        "en_US": "The option {option} needs a value.",
        "zh_CN": "选项 {option} 需要一个值。",
    },
    # -- running ------------------------------------------------------------------
    "output_current": {
        "en_US": "Output format: {format} (choices: {formats})",
        "zh_CN": "当前输出格式：{format}（可选：{formats}）",
    },
    "output_set": {
        "en_US": "Output format set to {format}.",
        "zh_CN": "输出格式已设为 {format}。",
    },
    "bad_output_format": {
        "en_US": "Unknown output format '{value}'; choose one of {formats}.",
        "zh_CN": "未知的输出格式 '{value}'；请从 {formats} 中选择。",
    },
    "not_logged_in": {
        "en_US": "Not logged in to this server. Log in first: "
                 "LogInByAccount accountName=NAME password=PASSWORD",
        "zh_CN": "尚未登录此服务器。请先登录：LogInByAccount accountName=账户名 password=密码",
    },
    "session_cleared": {
        "en_US": "The saved session is no longer valid and was removed; log in again with "
                 "LogInByAccount.",
        "zh_CN": "保存的会话已失效并已删除；请使用 LogInByAccount 重新登录。",
    },
    "timed_out": {
        "en_US": "The request to {url} timed out after {seconds} seconds. Try again, or raise "
                 "the timeout with --timeout.",
        "zh_CN": "请求 {url} 在 {seconds} 秒后超时。请重试，或用 --timeout 调大超时时间。",
    },
    "connect_failed": {
        "en_US": "The request to {url} failed: {error}. Check that the server is running and "
                 "that --host, --port and --context-path point at it.",
        "zh_CN": "请求 {url} 失败：{error}。请确认服务器正在运行，且 --host、--port 和 "
                 "--context-path 指向该服务器。",
    },
    "server_unreachable": {
        "en_US": "Cannot reach the server at {address}: {error}. Check that the server is "
                 "running and that --host and --port point at it.",
        "zh_CN": "无法连接 {address} 上的服务器：{error}。请确认服务器正在运行，"
                 "且 --host 和 --port 指向该服务器。",
    },
    "state_unusable": {
        "en_US": "Cannot use the state directory {path} for the saved session and history: "
                 "{error}. Make it a directory you can write, or set XDG_STATE_HOME to one.",
        "zh_CN": "无法使用状态目录 {path} 保存会话和历史记录：{error}。"
                 "请确保它是可写的目录，或将 XDG_STATE_HOME 设为可写的目录。",
    },
    "no_inventories": {
        "en_US": "(no inventories)",
        "zh_CN": "（没有结果）",
    },
    "password_prompt": {
        "en_US": "Password: ",
        "zh_CN": "密码：",
    },
    "cancelled": {
        "en_US": "Cancelled.",
        "zh_CN": "已取消。",
    },
    "welcome": {
        "en_US": "aios-cli connected to {url}. Type help for the commands, press Tab to "
                 "complete, Ctrl-D to leave.",
        "zh_CN": "aios-cli 已连接 {url}。输入 help 查看命令，按 Tab 补全，按 Ctrl-D 退出。",
    },
    # -- help ---------------------------------------------------------------------
    "cli_usage": {
        "en_US": """\
Usage: aios-cli [OPTIONS] [API [ARGUMENTS...]]

A zstack-cli style shell for the trained-model record API. Without an API it
starts an interactive shell; with one it runs that command and exits. When
standard input is not a terminal, it runs one command per line from it.

Options:
  --host HOST            server host name or address [default: 127.0.0.1]
  --port PORT            server port [default: 8080]
  --context-path PATH    URL prefix before /v1 [default: /zstack]
  --output FORMAT        json (indented, the default), compact or table
  --timeout SECONDS      how long to wait for a reply [default: 30]
  --config FILE          config file [default: {config}]
  --version              print the version and exit
  -h, --help             print this help and exit

Settings come from the config file, then the environment variables
AIOS_CLI_HOST, AIOS_CLI_PORT, AIOS_CLI_CONTEXT_PATH, AIOS_CLI_OUTPUT and
AIOS_CLI_TIMEOUT, then the options above. The session is saved in
{session} (mode 0600).

Exit status: 0 on success, 1 when a call fails, 2 on a usage error.
Type help inside the shell, or run aios-cli help, to list the APIs.""",
        "zh_CN": """\
用法：aios-cli [选项] [API [参数...]]

zstack-cli 风格的模型训练记录 API 命令行工具。不带 API 时进入交互式 shell；
带 API 时执行该命令后退出。标准输入不是终端时，从标准输入逐行读取并执行命令。

选项：
  --host HOST            服务器主机名或地址 [默认：127.0.0.1]
  --port PORT            服务器端口 [默认：8080]
  --context-path PATH    /v1 之前的 URL 前缀 [默认：/zstack]
  --output FORMAT        json（缩进，默认）、compact 或 table
  --timeout SECONDS      等待响应的秒数 [默认：30]
  --config FILE          配置文件 [默认：{config}]
  --version              显示版本后退出
  -h, --help             显示本帮助后退出

设置依次取自配置文件、环境变量 AIOS_CLI_HOST、AIOS_CLI_PORT、
AIOS_CLI_CONTEXT_PATH、AIOS_CLI_OUTPUT 和 AIOS_CLI_TIMEOUT，最后是上述选项。
会话保存在 {session}（权限 0600）。

退出码：成功为 0，调用失败为 1，用法错误为 2。
在 shell 中输入 help，或运行 aios-cli help，可查看所有 API。""",
    },
    "shell_help": {
        "en_US": """\
Commands are API names followed by arguments, for example:
  LogInByAccount accountName=admin password=password
  QueryTrainedModelRecord modelUuid=f9878203ed4048fe99a8909ca90cc105 limit=10
  QueryTrainedModelRecord createDate>=2025-01-01 sortBy=createDate sortDirection=desc
  QueryTrainedModelRecord model.name~=Qwen% count=true
  CreateTrainedModelRecord modelUuid=UUID modelServiceInstanceGroupUuid=UUID userTags=a,b
  DeleteModel uuid=UUID
  LogOut

A query condition is field<operator>value. Operators: = != > >= < <=,
?= and !?= (in or not in a comma-separated list), ~= and !~= (SQL LIKE,
% and _ are wildcards), and `field is null`, `field not null`.
model.name=x follows an expansion to Model; __userTag__, __systemTag__ and
__tagUuid__ select by tags. Query options: limit, start, count,
replyWithCount, sortBy, sortDirection (asc or desc) and fields.
Quote a value with spaces: name="my model". List parameters are
comma-separated: userTags=a,b.

Shell commands:
  help [API]        list the APIs, or the parameters of one API
  output [FORMAT]   show or set the output format: json, compact or table
  exit, quit        leave the shell (Ctrl-D too; Ctrl-C clears the line)

Press Tab to complete API names, fields, operators and parameters.
""",
        "zh_CN": """\
命令是 API 名称加参数，例如：
  LogInByAccount accountName=admin password=password
  QueryTrainedModelRecord modelUuid=f9878203ed4048fe99a8909ca90cc105 limit=10
  QueryTrainedModelRecord createDate>=2025-01-01 sortBy=createDate sortDirection=desc
  QueryTrainedModelRecord model.name~=Qwen% count=true
  CreateTrainedModelRecord modelUuid=UUID modelServiceInstanceGroupUuid=UUID userTags=a,b
  DeleteModel uuid=UUID
  LogOut

查询条件写作 字段<操作符>值。操作符：= != > >= < <=，?= 和 !?=（在或不在
逗号分隔的列表中），~= 和 !~=（SQL LIKE，% 和 _ 为通配符），以及
`字段 is null`、`字段 not null`。model.name=x 可跨表查询 Model；
__userTag__、__systemTag__ 和 __tagUuid__ 按标签筛选。查询选项：limit、start、
count、replyWithCount、sortBy、sortDirection（asc 或 desc）和 fields。
含空格的值请加引号：name="my model"。列表参数用逗号分隔：userTags=a,b。

shell 命令：
  help [API]        列出所有 API，或某个 API 的参数
  output [FORMAT]   查看或设置输出格式：json、compact 或 table
  exit, quit        退出 shell（也可按 Ctrl-D；Ctrl-C 清空当前行）

按 Tab 可补全 API 名称、字段、操作符和参数。
""",
    },
    "help_apis": {"en_US": "APIs:", "zh_CN": "API 列表："},
    "help_session_apis": {"en_US": "Sessions", "zh_CN": "会话"},
    "help_query_apis": {"en_US": "Queries", "zh_CN": "查询"},
    "help_write_apis": {"en_US": "Writes", "zh_CN": "写操作"},
    "help_fields": {"en_US": "Fields:", "zh_CN": "字段："},
    "help_expansions": {
        "en_US": "Expansions (follow with a dot, such as {example}):",
        "zh_CN": "跨表查询（名称后加点号，例如 {example}）：",
    },
    "help_tag_fields": {"en_US": "Tag fields:", "zh_CN": "标签字段："},
    "help_options": {"en_US": "Options:", "zh_CN": "查询选项："},
    "help_parameters": {
        "en_US": "Parameters (* required):",
        "zh_CN": "参数（* 为必填）：",
    },
    "help_no_parameters": {"en_US": "No parameters.", "zh_CN": "没有参数。"},
    "help_session_default": {
        "en_US": "the saved session when not given",
        "zh_CN": "不填时使用已保存的会话",
    },
    "help_choices": {"en_US": "one of", "zh_CN": "可选"},
    "help_list": {"en_US": "comma-separated list", "zh_CN": "逗号分隔的列表"},
    "help_password": {
        "en_US": "plain text; sent as its SHA-512 digest, asked for when left out",
        "zh_CN": "明文；发送其 SHA-512 摘要，未给出时会提示输入",
    },
    "help_admin_only": {"en_US": "admin account only", "zh_CN": "仅限 admin 账户"},
}


def locale() -> str:
    """Return the locale that LC_ALL, LC_MESSAGES or LANG selects."""
    return i18n.locale_from_environment()


def accept_language() -> str:
    """Return the Accept-Language header that requests the CLI's language from the server."""
    return "zh-CN" if locale() == "zh_CN" else "en-US"


def text(key: str, **fields: object) -> str:
    """Format message `key` in the current locale."""
    templates = MESSAGES[key]
    return templates.get(locale(), templates[i18n.DEFAULT_LOCALE]).format(**fields)


class UsageError(Exception):
    """A command or setting the CLI cannot run; the message is formatted when shown."""

    def __init__(self, key: str, /, **fields: object) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields

    def __str__(self) -> str:
        return text(self.key, **self.fields)
