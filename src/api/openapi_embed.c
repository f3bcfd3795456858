/* The OpenAPI document, openapi/openapi.json, linked into the binary as a NUL-terminated
 * string so /openapi.json serves exactly the file kept in the repository. */
__asm__(".section .rodata\n"
	".global openapi_json\n"
	".type openapi_json, @object\n"
	".balign 16\n"
	"openapi_json:\n"
	".incbin \"openapi/openapi.json\"\n"
	".byte 0\n"
	".size openapi_json, . - openapi_json\n"
	".previous\n");
