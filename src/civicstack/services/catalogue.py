"""The demo seed of the procedure catalogue: the 25 essential public services done fully online
(no paper from 1 October 2025), two only partly online, and the two interlinked groups. A demo
seed, not the legal catalogue: procedure codes, fees and legal bases are illustrative. Admins
load their own with `civicstack services import` (the same JSON shape, see docs/services.md).

Each required field says where its value comes from: `register:<field>` (the applicant's
record in the population register), `wallet:<document>.<claim>` (a document in the applicant's
wallet) or `applicant` (typed in the form). Each required document names the wallet document
type that replaces it, or none: only those are uploaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PDF_OR_IMAGE = ("application/pdf", "image/jpeg", "image/png")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class AgencySeed:
    code: str
    name: str
    name_en: str
    level: str
    ministry: str
    deciding_role: str


AGENCIES = (
    AgencySeed("ubnd-xa", "Ủy ban nhân dân cấp xã", "Ward People's Committee", "ward",
               "Bộ Tư pháp", "agency_approver"),
    AgencySeed("cong-an-xa", "Công an cấp xã", "Ward police", "ward", "Bộ Công an", "police"),
    AgencySeed("cong-an-tinh", "Công an cấp tỉnh", "Provincial police", "province",
               "Bộ Công an", "police"),
    AgencySeed("so-tu-phap", "Sở Tư pháp", "Provincial Department of Justice", "province",
               "Bộ Tư pháp", "agency_approver"),
    AgencySeed("bhxh-tinh", "Bảo hiểm xã hội cấp tỉnh", "Provincial Social Security",
               "province", "Bộ Tài chính", "agency_approver"),
    AgencySeed("so-tai-chinh", "Sở Tài chính", "Provincial Department of Finance", "province",
               "Bộ Tài chính", "agency_approver"),
    AgencySeed("thue-co-so", "Thuế cơ sở", "Local tax office", "province", "Bộ Tài chính",
               "agency_approver"),
    AgencySeed("so-noi-vu", "Sở Nội vụ", "Provincial Department of Home Affairs", "province",
               "Bộ Nội vụ", "agency_approver"),
    AgencySeed("so-xay-dung", "Sở Xây dựng", "Provincial Department of Construction",
               "province", "Bộ Xây dựng", "agency_approver"),
    AgencySeed("so-nong-nghiep", "Sở Nông nghiệp và Môi trường",
               "Provincial Department of Agriculture and Environment", "province",
               "Bộ Nông nghiệp và Môi trường", "agency_approver"),
)


# What a typed value must be; the last three are what the approval's effects on the register
# need, so a value they would refuse is refused at submission, where the citizen can fix it.
FIELD_TYPES = ("string", "date", "integer", "personal_id_number", "sex", "ward_code")


@dataclass(frozen=True)
class Choice:
    """One value a choice field may take, named in both languages."""

    value: str
    label: str
    label_en: str


# The types whose value is one of a closed list: the form offers them as a select, and
# submission and approval accept nothing else (the register records sex as M or F).
CHOICES = {"sex": (Choice("M", "Nam", "Male"), Choice("F", "Nữ", "Female"))}


@dataclass(frozen=True)
class FieldSpec:
    """A piece of information a procedure asks for, and where its value comes from."""

    name: str
    label: str
    label_en: str
    source: str = "applicant"  # register:<field>, wallet:<document>.<claim> or applicant
    type: str = "string"  # one of FIELD_TYPES, checked by service.checked_value
    required: bool = True

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> FieldSpec:
        """From the JSON the database holds (models.Procedure.fields): the same keys."""
        return cls(**stored)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The values the field may take, or () where any value of its type may be typed."""
        return CHOICES.get(self.type, ())


@dataclass(frozen=True)
class DocumentSpec:
    """A document a procedure asks for; one with a wallet document type is never uploaded."""

    code: str
    label: str
    label_en: str
    wallet_document_type: str | None = None
    required: bool = True
    media_types: tuple[str, ...] = PDF_OR_IMAGE
    max_bytes: int = MAX_UPLOAD_BYTES

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> DocumentSpec:
        """From the JSON the database holds (models.Procedure.documents): the same keys."""
        return cls(**{**stored, "media_types": tuple(stored["media_types"])})

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "media_types": list(self.media_types)}


APPLICANT = [
    FieldSpec("applicant_name", "Họ tên người nộp", "Applicant's name", "register:full_name"),
    FieldSpec("applicant_pid", "Số định danh người nộp", "Applicant's ID number",
              "register:personal_id_number"),
    FieldSpec("applicant_phone", "Số điện thoại", "Phone", "register:phone", required=False),
    FieldSpec("applicant_address", "Nơi thường trú", "Permanent residence",
              "register:permanent_address"),
]
ID_CARD = DocumentSpec("id_card", "Căn cước của người nộp", "Applicant's ID card", "id_card")


@dataclass(frozen=True)
class ProcedureSeed:
    code: str
    name: str
    name_en: str
    agency: str
    legal_basis: str
    fee: int
    online_fee: int
    processing_days: int
    fields: list[FieldSpec] = field(default_factory=list)
    documents: list[DocumentSpec] = field(default_factory=list)
    online_level: str = "full"
    result_document_type: str | None = None
    register_effect: str | None = None
    group_code: str | None = None
    provinces: tuple[str, ...] | None = None  # None: published in every province


CHILD = [
    FieldSpec("child_full_name", "Họ tên trẻ", "Child's full name"),
    FieldSpec("child_date_of_birth", "Ngày sinh của trẻ", "Child's date of birth", type="date"),
    FieldSpec("child_sex", "Giới tính của trẻ", "Child's sex", type="sex"),
    FieldSpec("other_parent_pid", "Số định danh của cha/mẹ còn lại", "Other parent's ID number",
              type="personal_id_number", required=False),
]
DECEASED = [
    FieldSpec("deceased_pid", "Số định danh người chết", "Deceased person's ID number",
              type="personal_id_number"),
    FieldSpec("date_of_death", "Ngày chết", "Date of death", type="date"),
    FieldSpec("cause", "Nguyên nhân", "Cause", required=False),
]

PROCEDURES = (
    ProcedureSeed(
        "DVC-HT-01", "Đăng ký khai sinh", "Birth registration", "ubnd-xa",
        "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP", 0, 0, 1, [*APPLICANT, *CHILD],
        [DocumentSpec("birth_notice", "Giấy chứng sinh", "Medical birth notice"), ID_CARD,
         DocumentSpec("marriage", "Giấy chứng nhận kết hôn", "Marriage certificate",
                      "marriage_certificate", required=False)],
        result_document_type="birth_certificate", register_effect="birth",
        group_code="birth-bundle"),
    ProcedureSeed(
        "DVC-CT-01", "Đăng ký thường trú", "Permanent residence registration", "cong-an-xa",
        "Luật Cư trú 2020; Nghị định 154/2024/NĐ-CP", 20_000, 10_000, 7,
        [*APPLICANT, FieldSpec("new_ward_code", "Mã xã/phường nơi đăng ký",
                               "Ward code of the new residence", type="ward_code"),
         FieldSpec("new_address_line", "Địa chỉ", "Address")],
        [DocumentSpec("residence_proof", "Giấy tờ chứng minh chỗ ở hợp pháp",
                      "Proof of lawful residence"), ID_CARD],
        result_document_type="residence_confirmation", register_effect="residence",
        group_code="birth-bundle"),
    ProcedureSeed(
        "DVC-BH-01", "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        "Health insurance card for a child under 6", "bhxh-tinh",
        "Luật Bảo hiểm y tế 2008, sửa đổi 2024", 0, 0, 3, [*APPLICANT, *CHILD[:2]],
        [ID_CARD], group_code="birth-bundle"),
    ProcedureSeed(
        "DVC-HT-02", "Đăng ký khai tử", "Death registration", "ubnd-xa",
        "Luật Hộ tịch 2014", 0, 0, 1, [*APPLICANT, *DECEASED],
        [DocumentSpec("death_notice", "Giấy báo tử", "Death notice"), ID_CARD],
        register_effect="death", group_code="death-bundle"),
    ProcedureSeed(
        "DVC-CT-02", "Xóa đăng ký thường trú", "Deregistration of permanent residence",
        "cong-an-xa", "Luật Cư trú 2020", 0, 0, 1, [*APPLICANT, *DECEASED[:2]], [ID_CARD],
        group_code="death-bundle"),
    ProcedureSeed(
        "DVC-NV-01", "Hưởng mai táng phí", "Funeral allowance", "so-noi-vu",
        "Nghị định 20/2021/NĐ-CP", 0, 0, 5, [*APPLICANT, *DECEASED[:2]], [ID_CARD],
        group_code="death-bundle"),
    ProcedureSeed(
        "DVC-HT-03", "Đăng ký kết hôn", "Marriage registration", "ubnd-xa",
        "Luật Hôn nhân và gia đình 2014; Luật Hộ tịch 2014", 0, 0, 1,
        [*APPLICANT, FieldSpec("spouse_pid", "Số định danh người kết hôn cùng",
                               "Spouse's ID number", type="personal_id_number")], [ID_CARD],
        result_document_type="marriage_certificate", register_effect="marriage"),
    ProcedureSeed(
        "DVC-CT-03", "Đăng ký tạm trú", "Temporary residence registration", "cong-an-xa",
        "Luật Cư trú 2020", 15_000, 7_000, 3,
        [*APPLICANT, FieldSpec("new_ward_code", "Mã xã/phường nơi tạm trú", "Ward code",
                               type="ward_code"),
         FieldSpec("new_address_line", "Địa chỉ tạm trú", "Address")],
        [DocumentSpec("residence_proof", "Giấy tờ chứng minh chỗ ở hợp pháp",
                      "Proof of lawful residence"), ID_CARD]),
    ProcedureSeed(
        "DVC-TP-01", "Cấp Phiếu lý lịch tư pháp", "Judicial record certificate", "so-tu-phap",
        "Luật Lý lịch tư pháp 2009", 200_000, 100_000, 10,
        [*APPLICANT, FieldSpec("purpose", "Mục đích sử dụng", "Purpose of use")], [ID_CARD],
        result_document_type="judicial_record"),
    ProcedureSeed(
        "DVC-GT-01", "Cấp đổi giấy phép lái xe", "Driving licence renewal", "cong-an-tinh",
        "Luật Trật tự, an toàn giao thông đường bộ 2024", 135_000, 115_000, 5,
        [*APPLICANT, FieldSpec("licence_number", "Số giấy phép lái xe", "Licence number",
                               "wallet:driving_licence.licence_number")],
        [DocumentSpec("licence", "Giấy phép lái xe", "Driving licence", "driving_licence"),
         DocumentSpec("health_check", "Giấy khám sức khỏe", "Medical fitness certificate")],
        result_document_type="driving_licence"),
    ProcedureSeed(
        "DVC-GT-02", "Đăng ký xe", "Vehicle registration", "cong-an-tinh",
        "Thông tư 79/2024/TT-BCA", 150_000, 150_000, 2,
        [*APPLICANT, FieldSpec("make_model", "Nhãn hiệu, số loại", "Make and model"),
         FieldSpec("frame_number", "Số khung", "Frame number")],
        [DocumentSpec("invoice", "Hóa đơn mua xe", "Purchase invoice"), ID_CARD],
        result_document_type="vehicle_registration"),
    ProcedureSeed(
        "DVC-XC-01", "Cấp hộ chiếu phổ thông", "Passport issuance", "cong-an-tinh",
        "Luật Xuất cảnh, nhập cảnh của công dân Việt Nam 2019", 200_000, 180_000, 8,
        [*APPLICANT], [DocumentSpec("portrait", "Ảnh chân dung", "Portrait photo"), ID_CARD]),
    ProcedureSeed(
        "DVC-DN-01", "Đăng ký thành lập doanh nghiệp", "Business registration",
        "so-tai-chinh", "Luật Doanh nghiệp 2020; Nghị định 168/2025/NĐ-CP", 50_000, 0, 3,
        [*APPLICANT, FieldSpec("company_name", "Tên doanh nghiệp", "Company name"),
         FieldSpec("charter_capital", "Vốn điều lệ (đồng)", "Charter capital (VND)",
                   type="integer")],
        [DocumentSpec("charter", "Điều lệ công ty", "Company charter"), ID_CARD]),
    ProcedureSeed(
        "DVC-BH-02", "Cấp lại thẻ bảo hiểm y tế", "Health insurance card reissue",
        "bhxh-tinh", "Luật Bảo hiểm y tế 2008, sửa đổi 2024", 0, 0, 3, [*APPLICANT],
        [DocumentSpec("card", "Thẻ bảo hiểm y tế", "Health insurance card", "health_insurance")],
        result_document_type="health_insurance"),
    ProcedureSeed(
        "DVC-CC-01", "Cấp đổi thẻ căn cước", "ID card renewal", "cong-an-tinh",
        "Luật Căn cước 2023", 50_000, 25_000, 7, [*APPLICANT], [ID_CARD]),
    ProcedureSeed(
        "DVC-CT-04", "Xác nhận thông tin về cư trú", "Residence information confirmation",
        "cong-an-xa", "Luật Cư trú 2020", 0, 0, 1, [*APPLICANT], [ID_CARD],
        result_document_type="residence_confirmation"),
    ProcedureSeed(
        "DVC-HT-04", "Cấp bản sao trích lục hộ tịch", "Civil status extract", "ubnd-xa",
        "Luật Hộ tịch 2014", 8_000, 4_000, 1, [*APPLICANT], [ID_CARD],
        result_document_type="birth_certificate"),
    ProcedureSeed(
        "DVC-HT-05", "Cấp Giấy xác nhận tình trạng hôn nhân", "Marital status confirmation",
        "ubnd-xa", "Luật Hộ tịch 2014", 15_000, 7_000, 3,
        [*APPLICANT, FieldSpec("purpose", "Mục đích sử dụng", "Purpose of use")], [ID_CARD]),
    ProcedureSeed(
        "DVC-HT-06", "Đăng ký giám hộ", "Guardianship registration", "ubnd-xa",
        "Luật Hộ tịch 2014", 0, 0, 3,
        [*APPLICANT, FieldSpec("ward_pid", "Số định danh người được giám hộ", "Ward's ID number",
                               type="personal_id_number")],
        [DocumentSpec("guardianship_proof", "Giấy tờ về việc cử người giám hộ",
                      "Guardianship appointment"), ID_CARD]),
    ProcedureSeed(
        "DVC-NV-02", "Hưởng trợ cấp thất nghiệp", "Unemployment benefit", "so-noi-vu",
        "Luật Việc làm 2013", 0, 0, 20,
        [*APPLICANT, FieldSpec("insurance_number", "Mã số BHXH", "Social insurance number",
                               "wallet:social_insurance.insurance_number")],
        [DocumentSpec("termination", "Quyết định chấm dứt hợp đồng lao động",
                      "Notice of termination"), ID_CARD]),
    ProcedureSeed(
        "DVC-BH-03", "Hưởng bảo hiểm xã hội một lần", "Social insurance lump sum", "bhxh-tinh",
        "Luật Bảo hiểm xã hội 2024", 0, 0, 10,
        [*APPLICANT, FieldSpec("insurance_number", "Mã số BHXH", "Social insurance number",
                               "wallet:social_insurance.insurance_number")], [ID_CARD]),
    ProcedureSeed(
        "DVC-DN-02", "Đăng ký hộ kinh doanh", "Household business registration", "ubnd-xa",
        "Nghị định 168/2025/NĐ-CP", 100_000, 0, 3,
        [*APPLICANT, FieldSpec("business_name", "Tên hộ kinh doanh", "Business name"),
         FieldSpec("business_line", "Ngành, nghề kinh doanh", "Line of business")], [ID_CARD]),
    ProcedureSeed(
        "DVC-TH-01", "Đăng ký thuế lần đầu cho cá nhân", "First tax registration (individual)",
        "thue-co-so", "Luật Quản lý thuế 2019", 0, 0, 3, [*APPLICANT], [ID_CARD],
        result_document_type="tax_code"),
    ProcedureSeed(
        "DVC-TP-02", "Chứng thực bản sao điện tử từ bản chính", "Electronic certified copy",
        "ubnd-xa", "Nghị định 23/2015/NĐ-CP", 2_000, 2_000, 1, [*APPLICANT],
        [DocumentSpec("original", "Bản chính cần chứng thực", "The original to certify")]),
    ProcedureSeed(
        "DVC-GD-01", "Cấp bản sao bằng tốt nghiệp", "Copy of a diploma", "so-noi-vu",
        "Thông tư 21/2019/TT-BGDĐT", 0, 0, 5,
        [*APPLICANT, FieldSpec("diploma_number", "Số hiệu văn bằng", "Diploma number",
                               "wallet:diploma.diploma_number")],
        [DocumentSpec("diploma", "Bằng tốt nghiệp", "Diploma", "diploma")]),
    ProcedureSeed(
        "DVC-XD-01", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Building permit for a house",
        "so-xay-dung", "Luật Xây dựng 2014, sửa đổi 2020", 75_000, 75_000, 15,
        [*APPLICANT, FieldSpec("parcel", "Thửa đất số", "Land parcel number")],
        [DocumentSpec("drawings", "Bản vẽ thiết kế", "Design drawings"),
         DocumentSpec("land_title", "Giấy chứng nhận quyền sử dụng đất",
                      "Land use right certificate")],
        online_level="partial", provinces=("01", "79", "48")),
    ProcedureSeed(
        "DVC-DD-01", "Đăng ký biến động đất đai", "Land change registration", "so-nong-nghiep",
        "Luật Đất đai 2024", 30_000, 30_000, 10,
        [*APPLICANT, FieldSpec("parcel", "Thửa đất số", "Land parcel number")],
        [DocumentSpec("contract", "Hợp đồng chuyển nhượng", "Transfer contract"),
         DocumentSpec("land_title", "Giấy chứng nhận quyền sử dụng đất",
                      "Land use right certificate")],
        online_level="partial"),
)

# Local fees some provinces set themselves (Hà Nội and TP. Hồ Chí Minh keep their own rates).
LOCAL_FEES = {("DVC-CT-03", "01"): (20_000, 10_000), ("DVC-CT-03", "79"): (20_000, 10_000),
              ("DVC-XD-01", "79"): (100_000, 100_000)}

GROUPS = {
    "birth-bundle": ("Liên thông khai sinh – thường trú – bảo hiểm y tế cho trẻ dưới 6 tuổi",
                     "Birth, permanent residence and health insurance for a child under 6"),
    "death-bundle": ("Liên thông khai tử – xóa thường trú – mai táng phí",
                     "Death, deregistration of residence and funeral allowance"),
}
