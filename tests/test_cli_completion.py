"""aios-cli Tab completion, through prompt_toolkit's Completer interface."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from aios_records.apis import API_SPECS
from aios_records.cli.completer import CommandCompleter
from aios_records.resources import MODEL, TAG_FIELDS, TRAINED_MODEL_RECORD

RECORD_API = "QueryTrainedModelRecord"
OPERATORS = ["=", "!=", ">", ">=", "<", "<=", "?=", "!?=", "~=", "!~="]


def completions(text: str) -> list:
    document = Document(text)
    return list(CommandCompleter().get_completions(document,
                                                   CompleteEvent(completion_requested=True)))


def offered(text: str) -> set[str]:
    """Return the texts the completions would insert in place of the word under the cursor."""
    return {completion.text for completion in completions(text)}


def completed_line(text: str, index: int = 0) -> str:
    """Return the line after applying completion number `index`, as the Tab key would."""
    completion = completions(text)[index]
    return text[:len(text) + completion.start_position] + completion.text


def test_command_prefix_completes_name():
    assert offered("QueryTr") == {"QueryTrainedModelRecord "}


def test_command_prefix_is_case_sensitive():
    assert offered("querytr") == set()


def test_query_prefix_lists_query_apis():
    expected = {f"{name} " for name, spec in API_SPECS.items()
                if name.startswith("Query") and spec.kind == "query"}

    assert offered("Query") == expected


def test_empty_line_offers_apis_and_shell_commands():
    names = offered("")

    assert "LogInByAccount " in names
    assert "CreateTrainedModelRecord " in names
    assert "help " in names
    assert "exit " in names
    assert len(names) == len(API_SPECS) + 4


def test_record_fields_with_prefix():
    assert offered(f"{RECORD_API} mod") == {
        "modelUuid=", "model.", "modelServiceInstanceGroupUuid=", "modelServiceInstanceGroup.",
    }


def test_record_after_space_offers_everything():
    names = offered(f"{RECORD_API} ")
    expected = {f"{name}=" for name in TRAINED_MODEL_RECORD.field_names}
    expected |= {f"{expansion.name}." for expansion in TRAINED_MODEL_RECORD.expansions}
    expected |= {f"{name}=" for name in TAG_FIELDS}
    expected |= {"limit=", "start=", "count=", "replyWithCount=", "sortBy=", "sortDirection=",
                 "fields="}

    assert names == expected


def test_expansion_offers_target_fields():
    names = offered(f"{RECORD_API} model.")
    expected = {f"model.{name}=" for name in MODEL.field_names}
    expected |= {f"model.{expansion.name}." for expansion in MODEL.expansions}
    expected |= {f"model.{name}=" for name in TAG_FIELDS}

    assert names == expected
    assert "model.name=" in names
    assert "model.modelCenter." in names
    assert "model.limit=" not in names


def test_expansion_chain():
    assert offered(f"{RECORD_API} model.modelCenter.na") == {"model.modelCenter.name="}


def test_expansion_chain_back_to_records():
    names = offered(f"{RECORD_API} model.trainedModelRecord.data")

    assert names == {"model.trainedModelRecord.datasetUuid=", "model.trainedModelRecord.dataset."}


def test_unknown_expansion_offers_nothing():
    assert offered(f"{RECORD_API} colour.") == set()


def test_expansion_completion_replaces_word():
    assert completed_line(f"{RECORD_API} model.na") == f"{RECORD_API} model.name="


def test_completion_display_is_last_segment():
    [completion] = completions(f"{RECORD_API} model.na")

    assert completion.display_text == "name="
    assert completion.display_meta_text == "string"


def test_operators_after_field_name():
    names = offered(f"{RECORD_API} modelUuid")

    for operator in OPERATORS:
        assert f"modelUuid{operator}" in names
    assert "modelUuid is null " in names
    assert "modelUuid not null " in names


def test_operators_after_chained_field():
    names = offered(f"{RECORD_API} model.name")

    assert "model.name~=" in names
    assert "model.name is null " in names


def test_partial_operator_completes():
    assert offered(f"{RECORD_API} modelUuid!") == {"modelUuid!=", "modelUuid!?=", "modelUuid!~="}


def test_greater_offers_greater_equal():
    assert offered(f"{RECORD_API} createDate>") == {"createDate>="}


def test_tag_fields():
    assert offered("QueryModel __u") == {"__userTag__="}
    assert "__userTag__!=" in offered("QueryModel __userTag__")


def test_query_options_by_prefix():
    assert offered(f"{RECORD_API} sort") == {"sortBy=", "sortDirection="}
    assert offered(f"{RECORD_API} l") == {"limit=", "lastOpDate="}


def test_given_option_not_offered_again():
    assert offered(f"{RECORD_API} limit=1 li") == set()


def test_sort_by_values_are_fields():
    assert offered(f"{RECORD_API} sortBy=") == set(TRAINED_MODEL_RECORD.field_names)
    assert offered(f"{RECORD_API} sortBy=cr") == {"createDate"}


def test_sort_by_value_replaces_only_value():
    assert completed_line(f"{RECORD_API} sortBy=cr") == f"{RECORD_API} sortBy=createDate"


def test_sort_direction_values():
    assert offered(f"{RECORD_API} sortDirection=") == {"asc", "desc"}


def test_boolean_option_values():
    assert offered(f"{RECORD_API} count=t") == {"true"}


def test_fields_option_completes_last_item():
    assert offered(f"{RECORD_API} fields=uuid,cr") == {"createDate"}
    assert completed_line(f"{RECORD_API} fields=uuid,cr") == \
        f"{RECORD_API} fields=uuid,createDate"


def test_fields_option_skips_chosen():
    assert "uuid" not in offered(f"{RECORD_API} fields=uuid,")


def test_condition_values_from_choices():
    assert offered("QueryModelServiceInstanceGroup status=R") == {"Running"}
    assert offered("QueryModelServiceInstanceGroup model.type=") == set()


def test_in_list_completes_last_item():
    assert offered("QueryModelServiceInstanceGroup status?=Running,St") == {"Starting", "Stopped"}


def test_boolean_field_values():
    assert offered("QueryDataset system=") == {"true", "false"}


def test_write_parameters():
    names = offered("CreateTrainedModelRecord ")

    assert names == {"modelUuid=", "sourceModelUuid=", "modelServiceInstanceGroupUuid=",
                     "datasetUuid=", "resourceUuid=", "systemTags=", "userTags="}


def test_write_parameters_by_prefix():
    assert offered("CreateTrainedModelRecord model") == {"modelUuid=",
                                                         "modelServiceInstanceGroupUuid="}


def test_write_parameter_given_not_offered():
    assert offered("CreateTrainedModelRecord modelUuid=x model") == \
        {"modelServiceInstanceGroupUuid="}


def test_write_required_marked():
    by_text = {c.text: c.display_meta_text for c in completions("CreateTrainedModelRecord ")}

    assert by_text["modelUuid="] == "required"
    assert by_text["datasetUuid="] == ""


def test_write_choice_values():
    assert offered("CreateModelServiceInstanceGroup modelServiceType=F") == {"FineTune"}
    assert offered("CreateUserTag resourceType=Model") == {"ModelVO", "ModelCenterVO",
                                                           "ModelServiceInstanceGroupVO"}
    assert offered("ShareResource toPublic=") == {"true", "false"}


def test_login_parameters():
    assert offered("LogInByAccount acc") == {"accountName=", "accountType="}


def test_delete_parameters():
    assert offered("DeleteModel ") == {"uuid=", "deleteMode="}


def test_help_completes_api_names():
    assert offered("help QueryTr") == {"QueryTrainedModelRecord"}


def test_output_completes_formats():
    assert offered("output ") == {"json", "compact", "table"}


def test_unknown_command_offers_nothing():
    assert offered("Frobnicate ") == set()


@pytest.mark.parametrize("text", [f'{RECORD_API} modelUuid="ab', f"{RECORD_API} 'mod",
                                  'QueryModelServiceInstanceGroup status="Run"'])
def test_inside_quotes_offers_nothing(text):
    assert offered(text) == set()


def test_completion_after_quoted_word():
    assert offered(f'{RECORD_API} modelUuid="a b" data') == {"datasetUuid=", "dataset."}
