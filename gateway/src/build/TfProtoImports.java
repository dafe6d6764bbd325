import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A build step (run by exec-maven-plugin before protoc): writes the {@code .proto} files of
 * TensorFlow's messages that shardserve's gRPC definitions import, printed from the
 * {@code FileDescriptor}s that TensorFlow Java's generated classes carry, so that protoc resolves
 * {@code import "tensorflow/core/framework/tensor.proto"} with TensorFlow's exact file names,
 * packages, type names, field numbers and Java options. protoc generates no code for these files:
 * our messages refer to TF Java's own classes ({@code org.tensorflow.proto.TensorProto}, ...).
 *
 * <p>Only what an import needs is printed: syntax, package, imports, the Java options, messages
 * (fields, maps, oneofs, nested types) and enums. Options, defaults and reserved ranges, which
 * change no type name or field number, are left out. {@code google/protobuf/*} comes from
 * protobuf-java's jar. Usage: {@code java TfProtoImports.java OUT_DIR OUTER_CLASS...}.
 */
public final class TfProtoImports {

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    Deque<FileDescriptor> queue = new ArrayDeque<>();
    for (int i = 1; i < args.length; i++) {
      queue.add((FileDescriptor) Class.forName(args[i]).getMethod("getDescriptor").invoke(null));
    }
    Set<String> written = new TreeSet<>();
    while (!queue.isEmpty()) {
      FileDescriptor file = queue.poll();
      if (file.getName().startsWith("google/protobuf/") || !written.add(file.getName())) {
        continue;
      }
      write(out.resolve(file.getName()), print(file.toProto()));
      queue.addAll(file.getDependencies());
    }
    System.out.println("TfProtoImports: wrote " + written.size() + " TensorFlow .proto files to " + out);
  }

  private static void write(Path path, String text) throws IOException {
    Files.createDirectories(path.getParent());
    if (Files.exists(path) && Files.readString(path, StandardCharsets.UTF_8).equals(text)) {
      return; // unchanged: protoc's staleness check stays quiet
    }
    Files.writeString(path, text, StandardCharsets.UTF_8);
  }

  static String print(FileDescriptorProto f) {
    boolean proto3 = f.getSyntax().equals("proto3");
    if (!f.getSyntax().isEmpty() && !proto3 && !f.getSyntax().equals("proto2")) {
      throw new IllegalStateException(f.getName() + ": syntax '" + f.getSyntax() + "' is not printed");
    }
    if (f.getExtensionCount() > 0) {
      throw new IllegalStateException(f.getName() + " declares extensions, which this printer does not write");
    }
    StringBuilder b = new StringBuilder();
    b.append("// Printed at build time from TensorFlow Java's descriptor of ").append(f.getName())
        .append(" (imports only; no code is generated from it).\n");
    b.append("syntax = \"").append(proto3 ? "proto3" : "proto2").append("\";\n");
    if (!f.getPackage().isEmpty()) {
      b.append("package ").append(f.getPackage()).append(";\n");
    }
    Set<Integer> publicDeps = new TreeSet<>(f.getPublicDependencyList());
    for (int i = 0; i < f.getDependencyCount(); i++) {
      b.append("import ").append(publicDeps.contains(i) ? "public " : "").append('"').append(f.getDependency(i))
          .append("\";\n");
    }
    if (f.getOptions().hasJavaPackage()) {
      b.append("option java_package = \"").append(f.getOptions().getJavaPackage()).append("\";\n");
    }
    if (f.getOptions().hasJavaOuterClassname()) {
      b.append("option java_outer_classname = \"").append(f.getOptions().getJavaOuterClassname()).append("\";\n");
    }
    if (f.getOptions().hasJavaMultipleFiles()) {
      b.append("option java_multiple_files = ").append(f.getOptions().getJavaMultipleFiles()).append(";\n");
    }
    for (EnumDescriptorProto e : f.getEnumTypeList()) {
      printEnum(b, e, "");
    }
    for (DescriptorProto m : f.getMessageTypeList()) {
      printMessage(b, m, "", proto3);
    }
    return b.toString();
  }

  private static void printEnum(StringBuilder b, EnumDescriptorProto e, String indent) {
    b.append(indent).append("enum ").append(e.getName()).append(" {\n");
    if (e.getOptions().getAllowAlias()) {
      b.append(indent).append("  option allow_alias = true;\n");
    }
    for (EnumValueDescriptorProto v : e.getValueList()) {
      b.append(indent).append("  ").append(v.getName()).append(" = ").append(v.getNumber()).append(";\n");
    }
    b.append(indent).append("}\n");
  }

  private static void printMessage(StringBuilder b, DescriptorProto m, String indent, boolean proto3) {
    String in = indent + "  ";
    b.append(indent).append("message ").append(m.getName()).append(" {\n");
    Map<String, DescriptorProto> mapEntries = new HashMap<>();
    for (DescriptorProto nested : m.getNestedTypeList()) {
      if (nested.getOptions().getMapEntry()) {
        mapEntries.put(nested.getName(), nested);
      } else {
        printMessage(b, nested, in, proto3);
      }
    }
    for (EnumDescriptorProto e : m.getEnumTypeList()) {
      printEnum(b, e, in);
    }
    Map<Integer, List<FieldDescriptorProto>> oneofs = new LinkedHashMap<>();
    for (FieldDescriptorProto field : m.getFieldList()) {
      if (field.hasOneofIndex() && !field.getProto3Optional()) {
        oneofs.computeIfAbsent(field.getOneofIndex(), k -> new ArrayList<>()).add(field);
      } else {
        printField(b, field, in, proto3, mapEntries, false);
      }
    }
    for (Map.Entry<Integer, List<FieldDescriptorProto>> o : oneofs.entrySet()) {
      b.append(in).append("oneof ").append(m.getOneofDecl(o.getKey()).getName()).append(" {\n");
      for (FieldDescriptorProto field : o.getValue()) {
        printField(b, field, in + "  ", proto3, mapEntries, true);
      }
      b.append(in).append("}\n");
    }
    if (m.getExtensionRangeCount() > 0 || m.getExtensionCount() > 0) {
      throw new IllegalStateException("message " + m.getName() + " has extensions, which this printer does not write");
    }
    b.append(indent).append("}\n");
  }

  private static void printField(StringBuilder b, FieldDescriptorProto f, String indent, boolean proto3,
      Map<String, DescriptorProto> mapEntries, boolean inOneof) {
    b.append(indent);
    DescriptorProto entry = f.getType() == FieldDescriptorProto.Type.TYPE_MESSAGE
        && f.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED
        ? mapEntries.get(f.getTypeName().substring(f.getTypeName().lastIndexOf('.') + 1)) : null;
    if (entry != null) {
      b.append("map<").append(type(entry.getField(0))).append(", ").append(type(entry.getField(1))).append("> ");
    } else {
      if (f.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED) {
        b.append("repeated ");
      } else if (f.getLabel() == FieldDescriptorProto.Label.LABEL_REQUIRED) {
        b.append("required ");
      } else if (!inOneof && (!proto3 || f.getProto3Optional())) {
        b.append("optional ");
      }
      b.append(type(f)).append(' ');
    }
    b.append(f.getName()).append(" = ").append(f.getNumber()).append(";\n");
  }

  private static String type(FieldDescriptorProto f) {
    return switch (f.getType()) {
      case TYPE_DOUBLE -> "double";
      case TYPE_FLOAT -> "float";
      case TYPE_INT64 -> "int64";
      case TYPE_UINT64 -> "uint64";
      case TYPE_INT32 -> "int32";
      case TYPE_FIXED64 -> "fixed64";
      case TYPE_FIXED32 -> "fixed32";
      case TYPE_BOOL -> "bool";
      case TYPE_STRING -> "string";
      case TYPE_BYTES -> "bytes";
      case TYPE_UINT32 -> "uint32";
      case TYPE_SFIXED32 -> "sfixed32";
      case TYPE_SFIXED64 -> "sfixed64";
      case TYPE_SINT32 -> "sint32";
      case TYPE_SINT64 -> "sint64";
      case TYPE_MESSAGE, TYPE_ENUM -> f.getTypeName();
      case TYPE_GROUP -> throw new IllegalStateException("field " + f.getName() + " is a group, not printed");
    };
  }
}
